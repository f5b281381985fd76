// Encoding packets. The encoder writes into a caller-provided buffer of at least
// encoded_size() bytes; for PUBLISH it can write everything but the payload, so a
// connection gathers (header bytes, shared payload) into one write without copying
// the payload.
// Preconditions (checked by assertions in debug builds): the packet is valid for
// `version` as the decoder would accept it, and it fits a Remaining Length.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <cicada/codec/packets.hpp>

namespace cicada::codec {

// Bytes the whole packet takes on the wire.
std::size_t encoded_size(const Packet& packet, ProtocolVersion version);

// Writes the whole packet to the start of `out`; returns the bytes written.
std::size_t encode(const Packet& packet, ProtocolVersion version, std::span<std::uint8_t> out);

// The packet as a string of bytes, for tests and cold paths.
std::string encode_to_string(const Packet& packet, ProtocolVersion version);

// Bytes of a PUBLISH up to, not including, its payload.
std::size_t publish_header_size(const Publish& publish, ProtocolVersion version);

// Writes the PUBLISH up to its payload (fixed header with the Remaining Length that
// counts the payload, topic, packet id, properties); returns the bytes written.
std::size_t encode_publish_header(const Publish& publish, ProtocolVersion version,
                                  std::span<std::uint8_t> out);

}  // namespace cicada::codec
