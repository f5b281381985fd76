// ListenerInfo: what every connection of one listener shares: the listener's name
// (for authentication requests and logs) and its count of open connections (what
// listeners.tcp.NAME.max_connections bounds). One object per listener, held by its
// connections, so each pays one pointer for it rather than a copy of the name.
// Thread-safety: name is immutable; connections is atomic (every worker's
// connections count in it).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace cicada::broker {

struct ListenerInfo {
  explicit ListenerInfo(std::string listener_name) : name(std::move(listener_name)) {}

  const std::string name;
  std::atomic<std::uint64_t> connections{0};
};

}  // namespace cicada::broker
