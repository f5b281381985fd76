// The server side of the WebSocket opening handshake (RFC 6455 §4.2), sans-I/O: the
// HTTP/1.1 upgrade request is collected in a bounded buffer and parsed with Beast's
// HTTP parser; the outcome is the HTTP response to write (101, or the error status
// and close) and what a broker keeps of the request (path, X-Forwarded-For, the
// chosen subprotocol). Knows no MQTT beyond the subprotocol names of [MQTT-6.0.0-3].
// Thread-safety: single owner (the connection's worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "websocket_error.hpp"

namespace cicada::net::websocket {

struct HandshakeOptions {
  std::string path = "/mqtt";  // the request target's path, the query ignored
  // Refuse a client that offers no MQTT subprotocol. Off by default, as EMQX's
  // fail_if_no_subprotocol = false: some browsers' libraries send none.
  bool require_subprotocol = false;
  std::size_t max_request_size = 8192;  // the request header; more is refused with 431
  // Browsers name the page that opens a WebSocket in Origin (RFC 6455 §10.2): with
  // check_origin, only these ("https://app.example.com", compared case-insensitively)
  // may connect, so another site's page cannot use a visitor's network position.
  bool check_origin = false;
  std::vector<std::string> allowed_origins;
  bool allow_origin_absence = true;  // with check_origin: accept a request without Origin
};

// What the broker may want of the upgrade request once it is accepted.
struct UpgradeRequest {
  std::string path;           // without the query string
  std::string forwarded_for;  // X-Forwarded-For, several fields joined with ", "; may be empty
  std::string subprotocol;    // "mqtt", "mqttv3.1" or empty when none was offered
};

// RFC 6455 §4.2.2: base64(SHA-1(key + the protocol's GUID)).
std::string websocket_accept_key(std::string_view client_key);

class Handshake {
 public:
  enum class State { reading, accepted, refused };

  explicit Handshake(HandshakeOptions options = {});

  // Room for the next bytes from the socket (never empty while reading); commit()
  // how many were put there. The buffer never grows beyond max_request_size.
  std::span<std::uint8_t> prepare();
  State commit(std::size_t n);
  // Copies and commits as many of `bytes` as fit; returns how many it took.
  std::size_t feed(std::span<const std::uint8_t> bytes);

  State state() const noexcept { return state_; }
  // Once not reading: the complete HTTP response to write.
  const std::string& response() const noexcept { return response_; }
  // Once refused: why.
  WebSocketError error() const noexcept { return error_; }
  // Once accepted: the request, and the bytes the client sent after it (the first
  // frames, when it did not wait for the 101).
  const UpgradeRequest& request() const noexcept { return request_; }
  std::span<const std::uint8_t> leftover() const noexcept;

 private:
  void parse();
  void refuse(WebSocketError error);
  void accept(std::string_view key);

  HandshakeOptions options_;
  std::vector<std::uint8_t> buffer_;
  std::size_t size_ = 0;          // bytes of buffer_ received
  std::size_t request_size_ = 0;  // bytes of buffer_ that are the request
  State state_ = State::reading;
  WebSocketError error_{};
  UpgradeRequest request_;
  std::string response_;
};

}  // namespace cicada::net::websocket
