// Decoding one packet whose bytes are all present. The incremental Parser
// (parser.hpp) finds packet boundaries and calls this; tests and fuzzers may call it
// directly.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <cicada/base/expected.hpp>
#include <cicada/codec/error.hpp>
#include <cicada/codec/packets.hpp>

namespace cicada::codec {

struct FixedHeader {
  PacketType type;
  std::uint8_t flags;              // low nibble of the first byte
  std::uint32_t remaining_length;  // bytes after the fixed header
  std::uint8_t size;               // bytes of the fixed header itself (2-5)
};

// Decodes a fixed header from the start of `bytes`. nullopt: not enough bytes yet.
// Checks the packet type and the reserved flag bits [MQTT-2.1.3-1] and the Remaining
// Length encoding [MQTT-1.5.5-1] before any body byte is needed, so a bad first byte
// fails at once.
Expected<std::optional<FixedHeader>, DecodeError> decode_fixed_header(std::string_view bytes,
                                                                      ProtocolVersion version);

// Decodes the body (exactly header.remaining_length bytes) of a packet. A CONNECT
// carries its own protocol version; every other packet is read as `version`.
// String fields of the result are views into `body`.
Expected<Packet, DecodeError> decode_body(const FixedHeader& header, std::string_view body,
                                          ProtocolVersion version);

// Decodes exactly one whole packet (fixed header and body) from `bytes`; bytes left
// over are an error. Views in the result point into `bytes`.
Expected<Packet, DecodeError> decode_packet(std::string_view bytes, ProtocolVersion version);

}  // namespace cicada::codec
