// WebSocket framing (RFC 6455 §5), sans-I/O: an incremental decoder that streams
// application payload bytes out in place (no frame is ever buffered whole, so a
// frame's size costs no memory), and the frame header encoders. The broker decodes
// masked client frames and sends unmasked ones; cicada-bench, a client, the reverse. Frames may
// hold partial or several MQTT packets [MQTT-6.0.0-2], so nothing here knows MQTT: payload bytes
// are just bytes. Thread-safety: single owner (the connection's worker).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "websocket_error.hpp"

namespace cicada::net::websocket {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Status codes of a Close frame (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t none_received = 1005;  // never on the wire (§7.4.1)
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t too_big = 1009;
}  // namespace close_code

// The Close code this side sends for a frame error (1002, 1003, 1007 or 1009).
std::uint16_t close_code_for(WebSocketError error) noexcept;

struct FrameDecoderOptions {
  // The largest payload of one data frame. The decoder streams payloads, so this is a
  // policy bound, not a buffer size; by default the largest MQTT packet (2^28 - 1 bytes
  // of remaining length plus a 5-byte fixed header).
  std::uint64_t max_frame_size = 268'435'460;
  // Whose frames these are. [RFC 6455 §5.1] a client masks every frame it sends and a
  // server none; each side closes the connection on a frame the other way.
  bool from_server = false;
};

class FrameDecoder {
 public:
  enum class Event {
    none,   // `input` was consumed entirely; feed more
    ping,   // a complete Ping: answer with a Pong carrying control_payload()
    close,  // a complete Close: peer_close_code(); nothing after it is read [§5.5.1]
    error,  // a protocol error: error(), and send a Close with close_code_for(error())
  };
  struct Step {
    std::size_t consumed = 0;  // bytes of `input` used, all of them unless an event stopped it
    std::size_t data = 0;      // application bytes written at `out`
    Event event = Event::none;
  };

  explicit FrameDecoder(FrameDecoderOptions options = {}) : options_(options) {}

  // Decodes frames from `input`. Payload bytes of binary and continuation
  // frames are unmasked and written to `out`, which may be `input.data()` itself or
  // any place before it in the same buffer (bytes move forward only). Stops after a
  // control event, so the caller can act on it and call again with the rest. After a
  // close or an error the decoder has ended: it consumes nothing more.
  Step decode(std::span<std::uint8_t> input, std::uint8_t* out);

  // The payload of the Ping or Close just reported.
  std::span<const std::uint8_t> control_payload() const noexcept {
    return {control_.data(), control_size_};
  }
  // The status code of the Close just reported; close_code::none_received when it had none.
  std::uint16_t peer_close_code() const noexcept { return peer_close_code_; }
  WebSocketError error() const noexcept { return error_; }
  bool ended() const noexcept { return ended_; }
  // Inside a fragmented message (its first frame had FIN = 0).
  bool in_message() const noexcept { return in_message_; }

 private:
  Step fail(Step step, WebSocketError error);
  // Checks what the first two header bytes say; returns false (with error_) on a violation.
  bool check_first_bytes();
  bool check_length();
  Event finish_control_frame();

  FrameDecoderOptions options_;
  std::array<std::uint8_t, 14> header_{};  // 2 + up to 8 of length + 4 of masking key
  std::size_t header_size_ = 0;            // bytes of header_ filled
  std::size_t header_needed_ = 2;
  bool in_frame_ = false;  // the header is complete; payload bytes follow
  bool fin_ = false;
  Opcode opcode_ = Opcode::binary;
  std::uint64_t remaining_ = 0;         // payload bytes of the current frame still to come
  std::array<std::uint8_t, 4> mask_{};  // all zero in a server's frames
  std::size_t mask_offset_ = 0;         // the payload position modulo 4, for the key's phase
  bool in_message_ = false;
  std::array<std::uint8_t, 125> control_{};  // [RFC 6455 §5.5] control payloads are <= 125
  std::size_t control_size_ = 0;
  std::uint16_t peer_close_code_ = close_code::none_received;
  WebSocketError error_{};
  bool ended_ = false;
};

// XORs `bytes` with the masking key, starting at key position `offset` (RFC 6455 §5.3);
// returns the position after them. XOR is its own inverse: this masks as well.
std::size_t unmask(std::span<std::uint8_t> bytes, const std::array<std::uint8_t, 4>& key,
                   std::size_t offset) noexcept;

inline constexpr std::size_t max_server_header_size = 10;  // server frames are unmasked
inline constexpr std::size_t max_client_header_size = 14;  // and a client's carry the key

// Writes the header of an unmasked, final frame with `payload_size` bytes; returns its size.
std::size_t encode_frame_header(Opcode opcode, std::uint64_t payload_size,
                                std::span<std::uint8_t, max_server_header_size> out) noexcept;
// The same for a client's frame: the mask bit and `key` [RFC 6455 §5.2, §5.3]. The
// caller masks the payload with unmask(payload, key, 0).
std::size_t encode_client_frame_header(
    Opcode opcode, std::uint64_t payload_size, const std::array<std::uint8_t, 4>& key,
    std::span<std::uint8_t, max_client_header_size> out) noexcept;

// Appends a whole control frame; `payload` is at most 125 bytes.
void append_control_frame(std::string& out, Opcode opcode, std::span<const std::uint8_t> payload);
// Appends a Close frame with `code`; none_received appends one with an empty payload.
void append_close_frame(std::string& out, std::uint16_t code);

}  // namespace cicada::net::websocket
