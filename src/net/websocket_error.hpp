// The reasons a WebSocket connection is refused or ended by this side, as
// boost::system error codes, so a connection logs and counts them by name.
// Thread-safety: immutable after static initialisation; any thread.
#pragma once

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace cicada::net {

enum class WebSocketError {
  // The HTTP upgrade request (RFC 6455 §4.2.1), refused with the HTTP status shown.
  request_too_large = 1,  // 431: the header is larger than the configured bound
  bad_request,            // 400: not HTTP/1.1, no Host, a body, malformed
  method_not_allowed,     // 405: not GET
  not_upgrade,            // 426: no `Upgrade: websocket` / `Connection: upgrade`
  bad_key,                // 400: Sec-WebSocket-Key missing or not 16 bytes in base64
  bad_version,            // 426: Sec-WebSocket-Version is not 13
  wrong_path,             // 404: not the configured path
  no_subprotocol,         // 400: neither "mqtt" nor "mqttv3.1" offered, and one is required
  origin_not_allowed,     // 403: an Origin not in the allowed list (or none, when one is required)
  // Frames from the client (RFC 6455 §5), answered with a Close frame of the code shown.
  unmasked_frame,     // 1002 [RFC 6455 §5.1]
  masked_frame,       // 1002 a masked frame from a server, seen by a client [§5.1]
  reserved_bits,      // 1002 no extension was negotiated [§5.2]
  reserved_opcode,    // 1002 [§5.2]
  bad_control_frame,  // 1002 fragmented or longer than 125 bytes [§5.5]
  bad_continuation,   // 1002 a continuation without a message, or a new message inside one
  bad_length,         // 1002 the 64-bit length's top bit, or a non-minimal length [§5.2]
  bad_close_frame,    // 1002 a one-byte payload or an invalid status code [§5.5.1, §7.4]
  bad_close_reason,   // 1007 the Close reason is not UTF-8 [§5.5.1, §8.1]
  text_frame,         // 1003 [MQTT-6.0.0-1]
  frame_too_large,    // 1009 above the configured frame bound
  // Using the layer outside its protocol state.
  not_open,  // write before the handshake completed
  closed,    // write after a Close frame was sent
};

const boost::system::error_category& websocket_category() noexcept;

inline boost::system::error_code make_error_code(WebSocketError error) noexcept {
  return {static_cast<int>(error), websocket_category()};
}

}  // namespace cicada::net

template <>
struct boost::system::is_error_code_enum<cicada::net::WebSocketError> : std::true_type {};
