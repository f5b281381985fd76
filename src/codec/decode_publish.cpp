// PUBLISH (MQTT 5.0 section 3.3; MQTT 3.1.1 section 3.3). The fixed-header flags were
// checked by decode_fixed_header; the payload is whatever follows the variable header.
#include <cicada/topic/topic.hpp>

#include "decoders.hpp"
#include "property_codec.hpp"

namespace cicada::codec::detail {

std::optional<DecodeError> decode_publish_into(std::uint8_t flags, std::string_view body,
                                               ProtocolVersion version, Publish& publish) {
  auto error = [](ReasonCode code, std::string_view detail) {
    return std::optional<DecodeError>(DecodeError{code, detail});
  };
  wire::Reader r(body);
  publish.dup = (flags & 0x08) != 0;
  publish.qos = static_cast<QoS>((flags >> 1) & 0x03);
  publish.retain = (flags & 0x01) != 0;
  publish.topic = r.utf8();  // [MQTT-3.3.2-1]
  if (publish.qos != QoS::at_most_once) {
    publish.packet_id = r.u16();
    // [MQTT-2.2.1-3] a QoS 1 or 2 PUBLISH carries a non-zero Packet Identifier.
    if (!r.failed() && publish.packet_id == 0) {
      return error(ReasonCode::protocol_error, "[MQTT-2.2.1-3] PUBLISH with Packet Identifier 0");
    }
  }
  if (version == ProtocolVersion::v5) {
    read_properties(r, PropertyContext::publish, publish.properties);
  }
  if (r.failed()) return r.error();
  publish.payload = r.rest();

  if (publish.topic.empty()) {
    // MQTT 5.0 3.3.2.1: a zero-length topic is only allowed with a Topic Alias.
    if (version != ProtocolVersion::v5 || !publish.properties.topic_alias) {
      return error(version == ProtocolVersion::v5 ? ReasonCode::protocol_error
                                                  : ReasonCode::malformed_packet,
                   "[MQTT-4.7.3-1] empty Topic Name without a Topic Alias");
    }
  } else if (topic::validate_name(publish.topic) != topic::TopicError::ok) {
    // [MQTT-3.3.2-2] no wildcard characters in a Topic Name.
    return error(ReasonCode::topic_name_invalid, "[MQTT-3.3.2-2] invalid Topic Name");
  }
  return std::nullopt;
}

DecodeResult decode_publish(std::uint8_t flags, std::string_view body, ProtocolVersion version) {
  Publish publish;
  if (auto error = decode_publish_into(flags, body, version, publish)) return unexpected(*error);
  return Packet{std::move(publish)};
}

}  // namespace cicada::codec::detail
