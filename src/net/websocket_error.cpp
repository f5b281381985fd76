// The messages of WebSocketError: what the connection's log line says.
#include "websocket_error.hpp"

#include <string>

namespace cicada::net {

namespace {

// boost::system::error_category's destructor is protected and non-virtual on purpose
// (categories are never deleted through it); -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class WebSocketCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "websocket"; }

  std::string message(int value) const override {
    switch (static_cast<WebSocketError>(value)) {
      case WebSocketError::request_too_large:
        return "websocket upgrade refused: request header too large (431)";
      case WebSocketError::bad_request:
        return "websocket upgrade refused: malformed HTTP request (400)";
      case WebSocketError::method_not_allowed:
        return "websocket upgrade refused: method is not GET (405)";
      case WebSocketError::not_upgrade:
        return "websocket upgrade refused: not a WebSocket upgrade request (426)";
      case WebSocketError::bad_key:
        return "websocket upgrade refused: missing or invalid Sec-WebSocket-Key (400)";
      case WebSocketError::bad_version:
        return "websocket upgrade refused: Sec-WebSocket-Version is not 13 (426)";
      case WebSocketError::wrong_path:
        return "websocket upgrade refused: wrong path (404)";
      case WebSocketError::no_subprotocol:
        return "websocket upgrade refused: no mqtt subprotocol offered (400)";
      case WebSocketError::origin_not_allowed:
        return "websocket upgrade refused: origin not allowed (403)";
      case WebSocketError::unmasked_frame:
        return "websocket: unmasked client frame (close 1002)";
      case WebSocketError::masked_frame:
        return "websocket: masked server frame (close 1002)";
      case WebSocketError::reserved_bits:
        return "websocket: reserved bits set (close 1002)";
      case WebSocketError::reserved_opcode:
        return "websocket: reserved opcode (close 1002)";
      case WebSocketError::bad_control_frame:
        return "websocket: fragmented or oversized control frame (close 1002)";
      case WebSocketError::bad_continuation:
        return "websocket: unexpected continuation or interleaved message (close 1002)";
      case WebSocketError::bad_length:
        return "websocket: invalid frame length encoding (close 1002)";
      case WebSocketError::bad_close_frame:
        return "websocket: invalid close frame (close 1002)";
      case WebSocketError::bad_close_reason:
        return "websocket: close reason is not UTF-8 (close 1007)";
      case WebSocketError::text_frame:
        return "websocket: text frame, MQTT needs binary frames (close 1003)";
      case WebSocketError::frame_too_large:
        return "websocket: frame above the size limit (close 1009)";
      case WebSocketError::not_open:
        return "websocket: write before the handshake completed";
      case WebSocketError::closed:
        return "websocket: write after the close frame";
    }
    return "websocket: unknown error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& websocket_category() noexcept {
  static const WebSocketCategory category;
  return category;
}

}  // namespace cicada::net
