// The client side of the WebSocket opening handshake (RFC 6455 §4.1), sans-I/O: the
// HTTP/1.1 upgrade request to write, and the checks of the server's response, which
// is collected in a bounded buffer and parsed with Beast's HTTP parser. Used by
// cicada-bench's ws:// and wss:// connections; knows no MQTT beyond the subprotocol
// name it offers [MQTT-6.0.0-3].
// Thread-safety: single owner.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cicada::net::websocket {

struct ClientHandshakeOptions {
  std::string host;                  // the Host header: "name" or "name:port" [RFC 6455 §4.1 4]
  std::string path = "/mqtt";        // the request target
  std::string subprotocol = "mqtt";  // offered in Sec-WebSocket-Protocol; empty: none
  std::size_t max_response_size = 8192;  // the response header; more fails the handshake
};

class ClientHandshake {
 public:
  enum class State { reading, accepted, failed };

  // `nonce`: 16 random bytes, the Sec-WebSocket-Key before base64 [RFC 6455 §4.1 7].
  ClientHandshake(ClientHandshakeOptions options, const std::array<std::uint8_t, 16>& nonce);

  // The complete request to write before anything else.
  const std::string& request() const noexcept { return request_; }

  // Takes response bytes; returns how many belonged to the response header. Bytes
  // after it (once accepted) are the server's first frames, which the caller decodes.
  std::size_t feed(std::span<const std::uint8_t> bytes);

  State state() const noexcept { return state_; }
  // Once failed: why, for a person ("HTTP 404 Not Found", "Sec-WebSocket-Accept does
  // not match the key").
  const std::string& error() const noexcept { return error_; }
  // Once accepted: the subprotocol the server chose; empty when it named none.
  const std::string& subprotocol() const noexcept { return chosen_; }

 private:
  void check();
  void fail(std::string why);

  ClientHandshakeOptions options_;
  std::string key_;
  std::string request_;
  std::vector<std::uint8_t> buffer_;  // the response so far; freed once decided
  State state_ = State::reading;
  std::string error_;
  std::string chosen_;
};

}  // namespace cicada::net::websocket
