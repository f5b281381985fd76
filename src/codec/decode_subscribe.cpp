// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (MQTT 5.0 sections 3.8-3.11; MQTT 3.1.1
// sections 3.8-3.11).
#include <cicada/topic/topic.hpp>

#include "decoders.hpp"
#include "property_codec.hpp"

namespace cicada::codec::detail {
namespace {

// Packet Identifier of SUBSCRIBE, UNSUBSCRIBE and their acknowledgements.
std::uint16_t read_packet_id(wire::Reader& r) {
  std::uint16_t id = r.u16();
  // [MQTT-2.2.1-3] non-zero Packet Identifier.
  if (!r.failed() && id == 0) {
    r.fail(ReasonCode::protocol_error, "[MQTT-2.2.1-3] Packet Identifier 0");
  }
  return id;
}

// A topic filter of SUBSCRIBE or UNSUBSCRIBE: a UTF-8 string [MQTT-3.8.3-1] following
// the rules of MQTT 5.0 4.7 and 4.8.2.
std::string_view read_filter(wire::Reader& r) {
  std::string_view filter = r.utf8();
  if (!r.failed() && topic::validate_filter(filter) != topic::TopicError::ok) {
    r.fail(ReasonCode::topic_filter_invalid,
           "[MQTT-4.7.1-1] [MQTT-4.7.3-1] [MQTT-4.8.2-1] invalid Topic Filter");
  }
  return filter;
}

SubscribeOptions read_options(wire::Reader& r, ProtocolVersion version, std::string_view filter) {
  std::uint8_t byte = r.u8();
  SubscribeOptions options;
  if (r.failed()) return options;
  auto qos = static_cast<std::uint8_t>(byte & 0x03);
  if (version != ProtocolVersion::v5) {
    // [MQTT-3-8.3-4] (3.1.1): reserved bits set or QoS 3 make the packet malformed.
    if ((byte & 0xFC) != 0 || qos == 3) {
      r.fail(ReasonCode::malformed_packet, "[MQTT-3-8.3-4] requested QoS byte invalid");
    }
    options.max_qos = static_cast<QoS>(qos);
    return options;
  }
  // [MQTT-3.8.3-5] bits 6 and 7 are reserved.
  if ((byte & 0xC0) != 0) {
    r.fail(ReasonCode::malformed_packet, "[MQTT-3.8.3-5] subscription options reserved bits set");
    return options;
  }
  // MQTT 5.0 3.8.3.1: Maximum QoS 3 and Retain Handling 3 are Protocol Errors.
  auto retain_handling = static_cast<std::uint8_t>((byte >> 4) & 0x03);
  if (qos == 3) r.fail(ReasonCode::protocol_error, "Maximum QoS 3 in SUBSCRIBE (MQTT 5.0 3.8.3.1)");
  if (retain_handling == 3) {
    r.fail(ReasonCode::protocol_error, "Retain Handling 3 in SUBSCRIBE (MQTT 5.0 3.8.3.1)");
  }
  options.max_qos = static_cast<QoS>(qos);
  options.no_local = (byte & 0x04) != 0;
  options.retain_as_published = (byte & 0x08) != 0;
  options.retain_handling = static_cast<RetainHandling>(retain_handling);
  // [MQTT-3.8.3-4] No Local on a Shared Subscription is a Protocol Error.
  if (options.no_local && topic::parse_shared(filter)) {
    r.fail(ReasonCode::protocol_error, "[MQTT-3.8.3-4] No Local on a Shared Subscription");
  }
  return options;
}

bool valid_suback_code(ReasonCode code, ProtocolVersion version) {
  auto value = static_cast<std::uint8_t>(code);
  switch (version) {
    case ProtocolVersion::v5:
      return is_valid_for(code, PacketType::suback);
    // 3.1.1 3.9.3: 0x00, 0x01, 0x02 and 0x80 (Failure); 3.1 had no failure code.
    case ProtocolVersion::v3_1_1:
      return value <= 2 || value == 0x80;
    case ProtocolVersion::v3_1:
      return value <= 2;
  }
  return false;
}

}  // namespace

DecodeResult decode_subscribe(std::string_view body, ProtocolVersion version) {
  wire::Reader r(body);
  Subscribe subscribe;
  subscribe.packet_id = read_packet_id(r);
  if (version == ProtocolVersion::v5) {
    read_properties(r, PropertyContext::subscribe, subscribe.properties);
  }
  while (!r.at_end() && !r.failed()) {
    Subscription subscription;
    subscription.filter = read_filter(r);
    subscription.options = read_options(r, version, subscription.filter);
    subscribe.subscriptions.push_back(subscription);
  }
  // [MQTT-3.8.3-2] at least one Topic Filter and Subscription Options pair.
  if (!r.failed() && subscribe.subscriptions.empty()) {
    return fail(ReasonCode::protocol_error, "[MQTT-3.8.3-2] SUBSCRIBE without a Topic Filter");
  }
  return finish(r, std::move(subscribe));
}

DecodeResult decode_unsubscribe(std::string_view body, ProtocolVersion version) {
  wire::Reader r(body);
  Unsubscribe unsubscribe;
  unsubscribe.packet_id = read_packet_id(r);
  if (version == ProtocolVersion::v5) {
    read_properties(r, PropertyContext::unsubscribe, unsubscribe.properties);
  }
  while (!r.at_end() && !r.failed())
    unsubscribe.filters.push_back(read_filter(r));
  // [MQTT-3.10.3-2] at least one Topic Filter.
  if (!r.failed() && unsubscribe.filters.empty()) {
    return fail(ReasonCode::protocol_error, "[MQTT-3.10.3-2] UNSUBSCRIBE without a Topic Filter");
  }
  return finish(r, std::move(unsubscribe));
}

DecodeResult decode_suback(std::string_view body, ProtocolVersion version) {
  wire::Reader r(body);
  Suback suback;
  suback.packet_id = read_packet_id(r);
  if (version == ProtocolVersion::v5)
    read_properties(r, PropertyContext::suback, suback.properties);
  while (!r.at_end() && !r.failed()) {
    auto code = static_cast<ReasonCode>(r.u8());
    if (!valid_suback_code(code, version)) {
      return fail(ReasonCode::malformed_packet, "SUBACK return code not defined (MQTT 5.0 3.9.3)");
    }
    suback.reason_codes.push_back(code);
  }
  // [MQTT-3.9.3-1] one return code per Topic Filter of the SUBSCRIBE, so at least one.
  if (!r.failed() && suback.reason_codes.empty()) {
    return fail(ReasonCode::protocol_error, "[MQTT-3.9.3-1] SUBACK without a return code");
  }
  return finish(r, std::move(suback));
}

DecodeResult decode_unsuback(std::string_view body, ProtocolVersion version) {
  wire::Reader r(body);
  Unsuback unsuback;
  unsuback.packet_id = read_packet_id(r);
  // MQTT 3.1.1 3.11: only the Packet Identifier. MQTT 5.0 3.11.3: a reason code per filter.
  if (version == ProtocolVersion::v5) {
    read_properties(r, PropertyContext::unsuback, unsuback.properties);
    while (!r.at_end() && !r.failed()) {
      auto code = static_cast<ReasonCode>(r.u8());
      if (!is_valid_for(code, PacketType::unsuback)) {
        return fail(ReasonCode::malformed_packet,
                    "UNSUBACK reason code not defined (MQTT 5.0 3.11.3)");
      }
      unsuback.reason_codes.push_back(code);
    }
    if (!r.failed() && unsuback.reason_codes.empty()) {
      return fail(ReasonCode::protocol_error, "[MQTT-3.11.3-1] UNSUBACK without a reason code");
    }
  }
  return finish(r, std::move(unsuback));
}

}  // namespace cicada::codec::detail
