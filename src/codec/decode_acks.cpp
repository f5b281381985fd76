// Acknowledgements and the small packets: PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT
// and AUTH (MQTT 5.0 sections 3.4-3.7, 3.14, 3.15).
#include "decoders.hpp"
#include "property_codec.hpp"

namespace cicada::codec::detail {
namespace {

PropertyContext ack_context(PacketType type) {
  switch (type) {
    case PacketType::puback:
      return PropertyContext::puback;
    case PacketType::pubrec:
      return PropertyContext::pubrec;
    case PacketType::pubrel:
      return PropertyContext::pubrel;
    default:
      return PropertyContext::pubcomp;
  }
}

template <PacketType Type>
DecodeResult read_ack(std::string_view body, ProtocolVersion version) {
  wire::Reader r(body);
  Ack<Type> ack;
  ack.packet_id = r.u16();
  if (r.failed()) return unexpected(r.error());
  // [MQTT-2.2.1-3] Packet Identifiers are non-zero.
  if (ack.packet_id == 0) {
    return fail(ReasonCode::protocol_error,
                "[MQTT-2.2.1-3] acknowledgement of Packet Identifier 0");
  }
  // MQTT 5.0 3.4.2.1: with Remaining Length 2 the reason is Success and there are no
  // properties; below 4 there is no Property Length.
  if (version == ProtocolVersion::v5 && !r.at_end()) {
    ack.reason_code = static_cast<ReasonCode>(r.u8());
    ack.properties.layout.reason_present = true;
    if (!is_valid_for(ack.reason_code, Type)) {
      return fail(ReasonCode::malformed_packet, "reason code not defined for this acknowledgement");
    }
    if (!r.at_end()) read_properties(r, ack_context(Type), ack.properties);
  }
  return finish(r, std::move(ack));
}

}  // namespace

DecodeResult decode_ack(PacketType type, std::string_view body, ProtocolVersion version) {
  switch (type) {
    case PacketType::puback:
      return read_ack<PacketType::puback>(body, version);
    case PacketType::pubrec:
      return read_ack<PacketType::pubrec>(body, version);
    case PacketType::pubrel:
      return read_ack<PacketType::pubrel>(body, version);
    default:
      return read_ack<PacketType::pubcomp>(body, version);
  }
}

DecodeResult decode_disconnect(std::string_view body, ProtocolVersion version) {
  wire::Reader r(body);
  Disconnect disconnect;
  // MQTT 3.1.1 3.14: DISCONNECT has no variable header. MQTT 5.0 3.14.2.1: Remaining
  // Length 0 means Normal disconnection; below 2 there is no Property Length.
  if (version == ProtocolVersion::v5 && !r.at_end()) {
    disconnect.reason_code = static_cast<ReasonCode>(r.u8());
    disconnect.properties.layout.reason_present = true;
    if (!is_valid_for(disconnect.reason_code, PacketType::disconnect)) {
      return fail(ReasonCode::malformed_packet,
                  "DISCONNECT reason code not defined (MQTT 5.0 3.14.2.1)");
    }
    if (!r.at_end()) read_properties(r, PropertyContext::disconnect, disconnect.properties);
  }
  return finish(r, std::move(disconnect));
}

DecodeResult decode_auth(std::string_view body) {
  wire::Reader r(body);
  Auth auth;
  // MQTT 5.0 3.15.2.1: Remaining Length 0 means Success with no properties.
  if (!r.at_end()) {
    auth.reason_code = static_cast<ReasonCode>(r.u8());
    auth.properties.layout.reason_present = true;
    if (!is_valid_for(auth.reason_code, PacketType::auth)) {
      return fail(ReasonCode::malformed_packet, "[MQTT-3.15.2-1] AUTH reason code not defined");
    }
    if (!r.at_end()) read_properties(r, PropertyContext::auth, auth.properties);
  }
  if (!r.failed() && auth.properties.authentication_data &&
      !auth.properties.authentication_method) {
    return fail(ReasonCode::protocol_error, "Authentication Data without Authentication Method");
  }
  return finish(r, std::move(auth));
}

}  // namespace cicada::codec::detail
