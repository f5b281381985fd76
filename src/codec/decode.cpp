// Fixed header decoding and dispatch to the per-packet decoders (MQTT 5.0 2.1).
#include <cicada/codec/decode.hpp>

#include "decoders.hpp"

namespace cicada::codec {
namespace {

// The flags a packet type must carry in the low nibble of its first byte
// [MQTT-2.1.3-1] (5.0), [MQTT-2.2.2-1] (3.1.1). PUBLISH is checked separately.
std::optional<DecodeError> check_flags(PacketType type, std::uint8_t flags,
                                       ProtocolVersion version) {
  switch (type) {
    case PacketType::publish: {
      auto qos = (flags >> 1) & 0x03;
      if (qos == 3)
        return DecodeError{ReasonCode::malformed_packet, "[MQTT-3.3.1-4] PUBLISH QoS 3"};
      if (qos == 0 && (flags & 0x08)) {
        return DecodeError{ReasonCode::malformed_packet,
                           "[MQTT-3.3.1-2] DUP set on a QoS 0 PUBLISH"};
      }
      return std::nullopt;
    }
    case PacketType::pubrel:
    case PacketType::subscribe:
    case PacketType::unsubscribe:
      // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1]: flags 0010. MQTT 3.1 treated these
      // bits as DUP/QoS/RETAIN and allowed DUP on a resend, so accept 1010 there.
      if (flags == 0x02 || (version == ProtocolVersion::v3_1 && flags == 0x0A)) return std::nullopt;
      return DecodeError{ReasonCode::malformed_packet,
                         "[MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1] flags must be 0010"};
    default:
      if (flags == 0) return std::nullopt;
      return DecodeError{ReasonCode::malformed_packet, "[MQTT-2.1.3-1] reserved flags set"};
  }
}

}  // namespace

Expected<std::optional<FixedHeader>, DecodeError> decode_fixed_header(std::string_view bytes,
                                                                      ProtocolVersion version) {
  using Result = Expected<std::optional<FixedHeader>, DecodeError>;
  if (bytes.empty()) return Result{std::nullopt};
  auto first = static_cast<std::uint8_t>(bytes[0]);
  auto type_value = static_cast<std::uint8_t>(first >> 4);
  // Type 0 is reserved; 15 (AUTH) exists only in MQTT 5 (MQTT 5.0 2.1.2).
  if (type_value == 0 || (type_value == 15 && version != ProtocolVersion::v5)) {
    return unexpected(DecodeError{ReasonCode::malformed_packet, "reserved packet type"});
  }
  FixedHeader header{static_cast<PacketType>(type_value), static_cast<std::uint8_t>(first & 0x0F),
                     0, 0};
  if (auto error = check_flags(header.type, header.flags, version)) return unexpected(*error);

  // Remaining Length: a Variable Byte Integer of at most four bytes, minimally
  // encoded [MQTT-1.5.5-1]. Decoded here byte by byte because it may be incomplete.
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (1 + i >= bytes.size()) return Result{std::nullopt};
    auto byte = static_cast<std::uint8_t>(bytes[1 + i]);
    value |= std::uint32_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80u) == 0) {
      if (i > 0 && byte == 0) {
        return unexpected(DecodeError{ReasonCode::malformed_packet,
                                      "[MQTT-1.5.5-1] Remaining Length not minimally encoded"});
      }
      header.remaining_length = value;
      header.size = static_cast<std::uint8_t>(2 + i);
      return Result{header};
    }
  }
  return unexpected(DecodeError{ReasonCode::malformed_packet,
                                "[MQTT-1.5.5-1] Remaining Length longer than 4 bytes"});
}

Expected<Packet, DecodeError> decode_body(const FixedHeader& header, std::string_view body,
                                          ProtocolVersion version) {
  using namespace detail;
  switch (header.type) {
    case PacketType::connect:
      return decode_connect(body);
    case PacketType::connack:
      return decode_connack(body, version);
    case PacketType::publish:
      return decode_publish(header.flags, body, version);
    case PacketType::puback:
    case PacketType::pubrec:
    case PacketType::pubrel:
    case PacketType::pubcomp:
      return decode_ack(header.type, body, version);
    case PacketType::subscribe:
      return decode_subscribe(body, version);
    case PacketType::suback:
      return decode_suback(body, version);
    case PacketType::unsubscribe:
      return decode_unsubscribe(body, version);
    case PacketType::unsuback:
      return decode_unsuback(body, version);
    case PacketType::pingreq:
    case PacketType::pingresp:
      // MQTT 5.0 3.12 / 3.13: no variable header and no payload.
      if (!body.empty()) return fail(ReasonCode::malformed_packet, "PINGREQ/PINGRESP with a body");
      if (header.type == PacketType::pingreq) return Packet{Pingreq{}};
      return Packet{Pingresp{}};
    case PacketType::disconnect:
      return decode_disconnect(body, version);
    case PacketType::auth:
      return decode_auth(body);
  }
  return fail(ReasonCode::malformed_packet, "reserved packet type");
}

Expected<Packet, DecodeError> decode_packet(std::string_view bytes, ProtocolVersion version) {
  auto header = decode_fixed_header(bytes, version);
  if (!header) return unexpected(header.error());
  if (!header->has_value() ||
      bytes.size() < (*header)->size + std::size_t{(*header)->remaining_length}) {
    return unexpected(DecodeError{ReasonCode::malformed_packet, "packet truncated"});
  }
  const FixedHeader& fixed = **header;
  if (bytes.size() != fixed.size + std::size_t{fixed.remaining_length}) {
    return unexpected(DecodeError{ReasonCode::malformed_packet, "bytes after the packet"});
  }
  return decode_body(fixed, bytes.substr(fixed.size), version);
}

}  // namespace cicada::codec
