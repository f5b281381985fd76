// Parser: the incremental MQTT stream decoder. Bytes are read straight into the
// parser's receive buffer (prepare / commit), or copied in with feed(); next() then
// yields complete packets one at a time. A decoded packet's strings and payload are
// views into the receive buffer, which the packet keeps alive through
// ParsedPacket::owner: nothing is copied, and a packet may outlive the parser.
//
// The buffer is allocated only when bytes are expected and given back by
// release_if_idle() when no partial packet is pending, so an idle connection costs
// no receive buffer. A packet that does not fit the current buffer gets a new one
// sized for the whole packet once its fixed header is known. The Remaining Length is
// checked against the maximum packet size before a single body byte is buffered.
//
// Thread-safety: single owner (the connection's worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <cicada/base/expected.hpp>
#include <cicada/base/shared_buffer.hpp>
#include <cicada/codec/decode.hpp>
#include <cicada/codec/error.hpp>
#include <cicada/codec/packets.hpp>

namespace cicada::codec {

struct ParserOptions {
  // Largest whole packet (fixed header included) accepted, as MQTT 5's Maximum Packet
  // Size counts it. Larger ones fail with Packet too large (0x95) [MQTT-3.1.2-24].
  std::uint32_t max_packet_size = 1024 * 1024;
  // Size of a fresh receive buffer; bigger packets get a buffer of their own size.
  std::size_t buffer_size = 4096;
  // Version for packets other than CONNECT until set_version() or a decoded CONNECT
  // says otherwise.
  ProtocolVersion version = ProtocolVersion::v3_1_1;
};

struct ParsedPacket {
  Packet packet;
  SharedBuffer owner;       // keeps the bytes the packet's views point into alive
  std::size_t wire_size{};  // bytes the packet took on the wire
};

class Parser {
 public:
  explicit Parser(ParserOptions options = {});

  ProtocolVersion version() const noexcept { return version_; }
  void set_version(ProtocolVersion version) noexcept { version_ = version; }
  void set_max_packet_size(std::uint32_t size) noexcept { max_packet_size_ = size; }

  // Writable space of at least `min_size` bytes after the bytes already received.
  std::span<std::uint8_t> prepare(std::size_t min_size = 1);
  // Marks `size` bytes of the space returned by prepare() as received.
  void commit(std::size_t size) noexcept;
  // Copies `bytes` in (prepare + memcpy + commit).
  void feed(std::string_view bytes);

  // The next complete packet; nullopt when more bytes are needed. After an error the
  // stream cannot be resynchronised: every later call returns the same error.
  // Decoding a CONNECT switches the parser to that CONNECT's protocol version.
  Expected<std::optional<ParsedPacket>, DecodeError> next();
  // next() into `out`, which the caller keeps from one packet to the next: true when
  // `out` holds the next packet, false when more bytes are needed. A PUBLISH is decoded
  // where it stays instead of being moved through the result (some 450 bytes with its
  // properties, moved four times: 5 % of the broker's CPU on fan-in). `out` keeps a
  // reference to the receive buffer while it holds a packet; destroy or reset it
  // before the next prepare(), so the parser can reuse the buffer.
  Expected<bool, DecodeError> next_into(ParsedPacket& out);

  // Received bytes not yet returned as packets.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  // Drops the receive buffer when no partial packet is pending.
  void release_if_idle() noexcept;
  // Capacity of the receive buffer currently held (0 when none).
  std::size_t buffer_capacity() const noexcept { return buffer_.capacity(); }

 private:
  void reserve(std::size_t needed);

  // 48 bytes rather than 88: a broker holds a parser for every connection, idle or
  // not. Offsets and sizes fit 32 bits: a buffer never outgrows the larger of
  // buffer_size and a whole packet (at most 268,435,460 bytes [MQTT-1.5.5]).
  SharedBuffer buffer_;
  std::uint32_t begin_ = 0;          // first byte not yet returned as (part of) a packet
  std::uint32_t end_ = 0;            // one past the last received byte
  std::uint32_t expected_size_ = 0;  // whole size of the pending packet, once known
  std::uint32_t max_packet_size_;
  std::uint32_t buffer_size_;
  ProtocolVersion version_;
  bool failed_ = false;  // then failure_ is the error, returned from now on
  ReasonCode failure_code_ = ReasonCode::success;
  std::string_view failure_detail_;
};

}  // namespace cicada::codec
