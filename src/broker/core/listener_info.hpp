// ListenerInfo: what every connection of one listener shares: the listener's id
// ("default", "ssl:default"; for authentication requests and logs), how a verified
// client certificate names the client (listeners.ssl.NAME.peer_cert_as_username), and
// its count of open connections (what listeners.KIND.NAME.max_connections bounds).
// One object per listener, held by its connections, so each pays one pointer for it
// rather than a copy of the name.
// Thread-safety: name and peer_cert_as_username are immutable; connections is atomic
// (every worker's connections count in it).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "../config/config.hpp"

namespace cicada::broker {

struct ListenerInfo {
  explicit ListenerInfo(std::string listener_id,
                        PeerCertAsUsername cert_as_username = PeerCertAsUsername::disabled)
      : name(std::move(listener_id)), peer_cert_as_username(cert_as_username) {}

  const std::string name;
  const PeerCertAsUsername peer_cert_as_username;
  std::atomic<std::uint64_t> connections{0};
};

}  // namespace cicada::broker
