// Authentication and authorization hooks. Every call is asynchronous: the broker
// asks, goes on serving other clients, and continues this client's work when the
// answer arrives (DESIGN.md: broker/auth never blocks a worker). The answer may come
// inline (allow-all, caches) or later from another thread, in which case the hook
// must post it back to the asking worker through the `done` callback it was given,
// which the broker wraps so that it always runs on the worker.
// Thread-safety: implementations are called from any worker concurrently.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <cicada/codec/reason_code.hpp>

namespace cicada::broker {

struct ClientAuth;  // client_auth.hpp

struct ConnectRequest {
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::string peer_host;
  std::string listener;
  // The verified TLS client certificate's subject (RFC 2253) and CN; empty without one.
  std::string cert_subject;
  std::string cert_common_name;
};

// ConnectRequest::peer_host, "ADDRESS:PORT" (IPv6 without brackets), as its two parts;
// the whole text and no port when it has no ':'.
inline std::pair<std::string_view, std::string_view> split_peer(std::string_view peer) {
  const auto colon = peer.rfind(':');
  if (colon == std::string_view::npos) return {peer, {}};
  return {peer.substr(0, colon), peer.substr(colon + 1)};
}

struct AuthDecision {
  bool allowed = true;
  codec::ReasonCode reason = codec::ReasonCode::success;  // when refused: 0x86, 0x87, 0x8C
  bool superuser = false;
  // With allowed: this client's own rules and expiry, when its answer carried any.
  std::shared_ptr<const ClientAuth> client;
};

enum class Action : std::uint8_t { publish, subscribe };

struct AccessRequest {
  std::string client_id;
  std::optional<std::string> username;
  std::string topic;
  Action action;
  std::uint8_t qos;
  bool retain;
  // The client's authentication made it a superuser (AuthDecision::superuser): it
  // bypasses authorization.
  bool superuser = false;
  // The client's address and port (${peerhost}, ${peerport}): kept as the endpoint, so a
  // request that no HTTP authorizer reads formats nothing.
  boost::asio::ip::tcp::endpoint peer{};
  // The client's own rules (AuthDecision::client), asked before the chain; valid during
  // the authorize() call only.
  const ClientAuth* client = nullptr;
};

class AuthHooks {
 public:
  virtual ~AuthHooks() = default;
  // True when every request would be allowed: the broker then skips building requests
  // on its hot paths.
  virtual bool allows_everything() const noexcept { return false; }
  virtual void authenticate(const ConnectRequest& request,
                            std::function<void(AuthDecision)> done) = 0;
  virtual void authorize(const AccessRequest& request, std::function<void(bool allowed)> done) = 0;
};

// This implementation: every client may connect and do anything. The
// password-file, HTTP and JWT methods come with the security issue.
class AllowAll final : public AuthHooks {
 public:
  bool allows_everything() const noexcept override { return true; }
  void authenticate(const ConnectRequest&, std::function<void(AuthDecision)> done) override {
    done(AuthDecision{});
  }
  void authorize(const AccessRequest&, std::function<void(bool)> done) override { done(true); }
};

}  // namespace cicada::broker
