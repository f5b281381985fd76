// The frame decoder's state machine and the frame header encoders (RFC 6455 §5).
#include "websocket_frames.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace cicada::net::websocket {

namespace {

bool is_control(Opcode opcode) noexcept {
  return (static_cast<std::uint8_t>(opcode) & 0x8) != 0;
}

// [RFC 6455 §7.4] the codes an endpoint may receive: 1000-1003, 1007-1014 and the
// ranges for libraries (3000-3999) and applications (4000-4999); 1004-1006 and 1015
// are reserved or never sent, the rest unassigned.
bool valid_received_close_code(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

// [RFC 3629 §4] well-formed UTF-8: no overlong forms, no surrogates, nothing above
// U+10FFFF.
bool valid_utf8(std::span<const std::uint8_t> text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::uint8_t lead = text[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint8_t low = 0x80;  // the range allowed for the second byte
    std::uint8_t high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    if (text[i + 1] < low || text[i + 1] > high) return false;
    for (std::size_t k = 2; k <= extra; ++k) {
      if (text[i + k] < 0x80 || text[i + k] > 0xBF) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

std::uint16_t close_code_for(WebSocketError error) noexcept {
  switch (error) {
    case WebSocketError::text_frame:
      return close_code::unsupported_data;
    case WebSocketError::frame_too_large:
      return close_code::too_big;
    case WebSocketError::bad_close_reason:
      return close_code::invalid_payload;
    default:
      return close_code::protocol_error;
  }
}

std::size_t unmask(std::span<std::uint8_t> bytes, const std::array<std::uint8_t, 4>& key,
                   std::size_t offset) noexcept {
  // Eight bytes at a time with the key rotated to the current phase; 8 is a multiple
  // of 4, so the phase is the same at every word.
  std::uint8_t rotated[8];
  for (std::size_t j = 0; j < 8; ++j)
    rotated[j] = key[(offset + j) & 3];
  std::uint64_t word_key;
  std::memcpy(&word_key, rotated, sizeof word_key);
  std::uint8_t* p = bytes.data();
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, sizeof word);
    word ^= word_key;
    std::memcpy(p + i, &word, sizeof word);
  }
  for (; i < n; ++i)
    p[i] ^= key[(offset + i) & 3];
  return (offset + n) & 3;
}

FrameDecoder::Step FrameDecoder::fail(Step step, WebSocketError error) {
  error_ = error;
  ended_ = true;
  step.event = Event::error;
  return step;
}

bool FrameDecoder::check_first_bytes() {
  const std::uint8_t b0 = header_[0];
  const std::uint8_t b1 = header_[1];
  fin_ = (b0 & 0x80) != 0;
  const std::uint8_t code = b0 & 0x0F;
  opcode_ = static_cast<Opcode>(code);
  const std::uint8_t length7 = b1 & 0x7F;
  // [RFC 6455 §5.2] RSV1-3 must be 0 unless an extension says otherwise; none is
  // negotiated (permessage-deflate is not offered).
  if ((b0 & 0x70) != 0) {
    error_ = WebSocketError::reserved_bits;
    return false;
  }
  if (code != 0x0 && code != 0x1 && code != 0x2 && code != 0x8 && code != 0x9 && code != 0xA) {
    error_ = WebSocketError::reserved_opcode;
    return false;
  }
  // [RFC 6455 §5.1] a server closes the connection on an unmasked client frame, and
  // a client on a masked server frame.
  const bool masked = (b1 & 0x80) != 0;
  if (masked == options_.from_server) {
    error_ = masked ? WebSocketError::masked_frame : WebSocketError::unmasked_frame;
    return false;
  }
  if (is_control(opcode_)) {
    // [RFC 6455 §5.5] control frames are never fragmented and carry at most 125 bytes.
    if (!fin_ || length7 > 125) {
      error_ = WebSocketError::bad_control_frame;
      return false;
    }
  } else if (opcode_ == Opcode::text) {
    // [MQTT-6.0.0-1] MQTT packets travel in binary frames; a text frame closes.
    error_ = WebSocketError::text_frame;
    return false;
  } else if ((opcode_ == Opcode::continuation) != in_message_) {
    // [RFC 6455 §5.4] a continuation belongs to a started message, and a new message
    // does not start inside one.
    error_ = WebSocketError::bad_continuation;
    return false;
  }
  const std::size_t length_bytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  header_needed_ = 2 + length_bytes + (masked ? 4 : 0);
  return true;
}

bool FrameDecoder::check_length() {
  const std::uint8_t length7 = header_[1] & 0x7F;
  std::uint64_t length = length7;
  if (length7 == 126) {
    length = std::uint64_t{header_[2]} << 8 | header_[3];
    // [RFC 6455 §5.2] the minimal number of bytes must be used for the length.
    if (length < 126) {
      error_ = WebSocketError::bad_length;
      return false;
    }
  } else if (length7 == 127) {
    length = 0;
    for (std::size_t i = 0; i < 8; ++i)
      length = length << 8 | header_[2 + i];
    // [RFC 6455 §5.2] the most significant bit of a 64-bit length must be 0.
    if ((length >> 63) != 0 || length <= 0xFFFF) {
      error_ = WebSocketError::bad_length;
      return false;
    }
  }
  if (!is_control(opcode_) && length > options_.max_frame_size) {
    error_ = WebSocketError::frame_too_large;
    return false;
  }
  if (!options_.from_server) std::memcpy(mask_.data(), header_.data() + header_needed_ - 4, 4);
  remaining_ = length;
  mask_offset_ = 0;
  return true;
}

FrameDecoder::Event FrameDecoder::finish_control_frame() {
  if (!options_.from_server) unmask({control_.data(), control_size_}, mask_, 0);
  switch (opcode_) {
    case Opcode::ping:
      return Event::ping;
    case Opcode::close: {
      ended_ = true;
      // [RFC 6455 §5.5.1] a Close body starts with a 2-byte status code, or is empty.
      if (control_size_ == 1) {
        error_ = WebSocketError::bad_close_frame;
        return Event::error;
      }
      if (control_size_ >= 2) {
        const auto code = static_cast<std::uint16_t>(control_[0] << 8 | control_[1]);
        if (!valid_received_close_code(code)) {
          error_ = WebSocketError::bad_close_frame;
          return Event::error;
        }
        if (!valid_utf8({control_.data() + 2, control_size_ - 2})) {
          error_ = WebSocketError::bad_close_reason;
          return Event::error;
        }
        peer_close_code_ = code;
      }
      return Event::close;
    }
    default:
      // [RFC 6455 §5.5.3] an unsolicited Pong needs no answer; this side sends no Ping.
      return Event::none;
  }
}

FrameDecoder::Step FrameDecoder::decode(std::span<std::uint8_t> input, std::uint8_t* out) {
  Step step;
  if (ended_) return step;
  while (true) {
    if (!in_frame_) {
      if (step.consumed == input.size()) return step;
      // The header arrives in pieces as small as one byte; collect it.
      while (header_size_ < header_needed_ && step.consumed < input.size()) {
        header_[header_size_++] = input[step.consumed++];
        if (header_size_ == 2 && !check_first_bytes()) return fail(step, error_);
      }
      if (header_size_ < header_needed_) return step;
      if (!check_length()) return fail(step, error_);
      in_frame_ = true;
      header_size_ = 0;
      header_needed_ = 2;
      control_size_ = 0;
      if (!is_control(opcode_)) in_message_ = !fin_;
    }
    const std::size_t available =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - step.consumed));
    std::uint8_t* from = input.data() + step.consumed;
    if (is_control(opcode_)) {
      std::memcpy(control_.data() + control_size_, from, available);
      control_size_ += available;
    } else if (available > 0) {
      std::uint8_t* to = out + step.data;
      assert(to <= from);
      if (to != from) std::memmove(to, from, available);
      if (!options_.from_server) mask_offset_ = unmask({to, available}, mask_, mask_offset_);
      step.data += available;
    }
    step.consumed += available;
    remaining_ -= available;
    if (remaining_ > 0) return step;
    in_frame_ = false;
    if (is_control(opcode_)) {
      step.event = finish_control_frame();
      if (step.event != Event::none) return step;
    }
  }
}

std::size_t encode_frame_header(Opcode opcode, std::uint64_t payload_size,
                                std::span<std::uint8_t, max_server_header_size> out) noexcept {
  out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode));
  if (payload_size < 126) {
    out[1] = static_cast<std::uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<std::uint8_t>(payload_size >> 8);
    out[3] = static_cast<std::uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (std::size_t i = 0; i < 8; ++i)
    out[2 + i] = static_cast<std::uint8_t>(payload_size >> (56 - 8 * i));
  return 10;
}

std::size_t encode_client_frame_header(
    Opcode opcode, std::uint64_t payload_size, const std::array<std::uint8_t, 4>& key,
    std::span<std::uint8_t, max_client_header_size> out) noexcept {
  const std::size_t size =
      encode_frame_header(opcode, payload_size, out.first<max_server_header_size>());
  out[1] |= 0x80;
  std::memcpy(out.data() + size, key.data(), key.size());
  return size + key.size();
}

void append_control_frame(std::string& out, Opcode opcode, std::span<const std::uint8_t> payload) {
  assert(payload.size() <= 125);
  std::array<std::uint8_t, max_server_header_size> header{};
  const std::size_t size = encode_frame_header(opcode, payload.size(), header);
  out.append(reinterpret_cast<const char*>(header.data()), size);
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
}

void append_close_frame(std::string& out, std::uint16_t code) {
  if (code == close_code::none_received) {
    append_control_frame(out, Opcode::close, {});
    return;
  }
  const std::array<std::uint8_t, 2> body{static_cast<std::uint8_t>(code >> 8),
                                         static_cast<std::uint8_t>(code)};
  append_control_frame(out, Opcode::close, body);
}

}  // namespace cicada::net::websocket
