// Private to the codec: bounds-checked readers and writers of MQTT's wire types
// (MQTT 5.0 section 1.5: integers, Variable Byte Integers, strings, binary data).
// Thread-safety: single owner; values on the stack of one decode or encode call.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include <cicada/codec/error.hpp>
#include <cicada/codec/utf8.hpp>

namespace cicada::codec::wire {

// Reads from a byte range, recording the first failure. After a failure every read
// returns a zero value, so a decoder may read a whole fixed layout and check once.
class Reader {
 public:
  explicit Reader(std::string_view bytes) noexcept : bytes_(bytes) {}

  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  bool at_end() const noexcept { return pos_ == bytes_.size(); }
  bool failed() const noexcept { return failed_; }
  const DecodeError& error() const noexcept { return error_; }

  void fail(ReasonCode code, std::string_view detail) noexcept {
    if (!failed_) {
      failed_ = true;
      error_ = {code, detail};
      pos_ = bytes_.size();
    }
  }

  std::uint8_t u8() noexcept {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(bytes_[pos_++]);
  }
  std::uint16_t u16() noexcept {
    if (!need(2)) return 0;
    auto value = static_cast<std::uint16_t>((byte_at(pos_) << 8) | byte_at(pos_ + 1));
    pos_ += 2;
    return value;
  }
  std::uint32_t u32() noexcept {
    if (!need(4)) return 0;
    std::uint32_t value = (std::uint32_t{byte_at(pos_)} << 24) |
                          (std::uint32_t{byte_at(pos_ + 1)} << 16) |
                          (std::uint32_t{byte_at(pos_ + 2)} << 8) | byte_at(pos_ + 3);
    pos_ += 4;
    return value;
  }
  // A Variable Byte Integer of at most four bytes, minimally encoded [MQTT-1.5.5-1].
  std::uint32_t varint() noexcept {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < 4; ++i) {
      if (!need(1)) return 0;
      std::uint8_t byte = byte_at(pos_++);
      value |= std::uint32_t{byte & 0x7Fu} << (7 * i);
      if ((byte & 0x80u) == 0) {
        if (i > 0 && byte == 0) {
          fail(ReasonCode::malformed_packet,
               "[MQTT-1.5.5-1] Variable Byte Integer not minimally encoded");
          return 0;
        }
        return value;
      }
    }
    fail(ReasonCode::malformed_packet, "[MQTT-1.5.5-1] Variable Byte Integer longer than 4 bytes");
    return 0;
  }
  // Exactly `size` raw bytes.
  std::string_view take(std::size_t size) noexcept {
    if (!need(size)) return {};
    std::string_view out = bytes_.substr(pos_, size);
    pos_ += size;
    return out;
  }
  // Two-byte length followed by that many bytes [MQTT-1.5.6].
  std::string_view binary() noexcept { return take(u16()); }
  // A UTF-8 Encoded String [MQTT-1.5.4-1], [MQTT-1.5.4-2].
  std::string_view utf8() noexcept {
    std::string_view text = binary();
    if (!failed_ && !is_valid_mqtt_string(text)) {
      fail(ReasonCode::malformed_packet,
           "[MQTT-1.5.4-1] [MQTT-1.5.4-2] UTF-8 string ill-formed or containing U+0000");
    }
    return text;
  }
  std::string_view rest() noexcept { return take(remaining()); }

 private:
  std::uint8_t byte_at(std::size_t i) const noexcept {
    return static_cast<std::uint8_t>(bytes_[i]);
  }
  bool need(std::size_t size) noexcept {
    if (failed_) return false;
    if (bytes_.size() - pos_ < size) {
      fail(ReasonCode::malformed_packet, "packet shorter than its contents require");
      return false;
    }
    return true;
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  DecodeError error_{};
};

// Bytes a Variable Byte Integer takes.
constexpr std::size_t varint_size(std::uint32_t value) noexcept {
  return value < 128u ? 1 : value < 16'384u ? 2 : value < 2'097'152u ? 3 : 4;
}

// Writes into a span the caller sized with the matching *_size computation; bounds
// are asserted, not checked, on this hot path.
class Writer {
 public:
  explicit Writer(std::span<std::uint8_t> out) noexcept : out_(out) {}

  std::size_t written() const noexcept { return pos_; }

  void u8(std::uint8_t value) noexcept {
    assert(pos_ + 1 <= out_.size());
    out_[pos_++] = value;
  }
  void u16(std::uint16_t value) noexcept {
    u8(static_cast<std::uint8_t>(value >> 8));
    u8(static_cast<std::uint8_t>(value));
  }
  void u32(std::uint32_t value) noexcept {
    u16(static_cast<std::uint16_t>(value >> 16));
    u16(static_cast<std::uint16_t>(value));
  }
  void varint(std::uint32_t value) noexcept {
    do {
      auto byte = static_cast<std::uint8_t>(value & 0x7Fu);
      value >>= 7;
      if (value != 0) byte |= 0x80u;
      u8(byte);
    } while (value != 0);
  }
  void raw(std::string_view bytes) noexcept {
    assert(pos_ + bytes.size() <= out_.size());
    if (!bytes.empty()) std::memcpy(out_.data() + pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
  }
  // Length-prefixed string or binary data.
  void binary(std::string_view bytes) noexcept {
    assert(bytes.size() <= 65535);
    u16(static_cast<std::uint16_t>(bytes.size()));
    raw(bytes);
  }

 private:
  std::span<std::uint8_t> out_;
  std::size_t pos_ = 0;
};

}  // namespace cicada::codec::wire
