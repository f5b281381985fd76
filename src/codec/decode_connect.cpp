// CONNECT and CONNACK (MQTT 5.0 sections 3.1 and 3.2; MQTT 3.1.1 sections 3.1, 3.2).
#include <cicada/topic/topic.hpp>

#include "decoders.hpp"
#include "property_codec.hpp"

namespace cicada::codec::detail {
namespace {

constexpr std::uint8_t flag_reserved = 0x01;
constexpr std::uint8_t flag_clean_start = 0x02;
constexpr std::uint8_t flag_will = 0x04;
constexpr std::uint8_t flag_will_retain = 0x20;
constexpr std::uint8_t flag_password = 0x40;
constexpr std::uint8_t flag_username = 0x80;

}  // namespace

DecodeResult decode_connect(std::string_view body) {
  wire::Reader r(body);
  std::string_view name = r.utf8();
  std::uint8_t level = r.u8();
  if (r.failed()) return unexpected(r.error());

  Connect connect;
  if (name == "MQTT") {
    // [MQTT-3.1.2-2] a level the server does not support is answered with CONNACK
    // 0x84 (5.0) / 0x01 (3.1.1); the error code tells the caller which.
    if (level != 4 && level != 5) {
      return fail(ReasonCode::unsupported_protocol_version,
                  "[MQTT-3.1.2-2] unsupported protocol level");
    }
  } else if (name == "MQIsdp") {
    // MQTT 3.1 named the protocol "MQIsdp" at level 3.
    if (level != 3) {
      return fail(ReasonCode::unsupported_protocol_version,
                  "[MQTT-3.1.2-2] MQIsdp with a level other than 3");
    }
  } else {
    // [MQTT-3.1.2-1] any other protocol name: not MQTT at all, so no CONNACK either.
    return fail(ReasonCode::protocol_error, "[MQTT-3.1.2-1] unknown protocol name");
  }
  connect.version = static_cast<ProtocolVersion>(level);
  const bool v5 = connect.version == ProtocolVersion::v5;

  std::uint8_t flags = r.u8();
  connect.keep_alive = r.u16();
  if (r.failed()) return unexpected(r.error());
  if (flags & flag_reserved) {
    return fail(ReasonCode::malformed_packet, "[MQTT-3.1.2-3] CONNECT reserved flag set");
  }
  connect.clean_start = (flags & flag_clean_start) != 0;
  const bool has_will = (flags & flag_will) != 0;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03);
  const bool will_retain = (flags & flag_will_retain) != 0;
  if (!has_will && (will_qos != 0 || will_retain)) {
    return fail(ReasonCode::malformed_packet,
                "[MQTT-3.1.2-11] [MQTT-3.1.2-13] Will QoS or Will Retain without a Will");
  }
  if (has_will && will_qos == 3) {
    return fail(ReasonCode::malformed_packet, "[MQTT-3.1.2-12] Will QoS 3");
  }
  const bool has_username = (flags & flag_username) != 0;
  const bool has_password = (flags & flag_password) != 0;
  // [MQTT-3.1.2-22] (3.1.1): no password without a user name. MQTT 5 allows it.
  if (!v5 && has_password && !has_username) {
    return fail(ReasonCode::malformed_packet, "[MQTT-3.1.2-22] Password Flag without User Name");
  }

  if (v5) read_properties(r, PropertyContext::connect, connect.properties);
  // [MQTT-3.1.3-4] the Client Identifier is a UTF-8 Encoded String.
  connect.client_id = r.utf8();
  if (has_will) {
    Will will;
    will.qos = static_cast<QoS>(will_qos);
    will.retain = will_retain;
    if (v5) read_properties(r, PropertyContext::will, will.properties);
    will.topic = r.utf8();  // [MQTT-3.1.3-11]
    will.payload = r.binary();
    if (!r.failed() && topic::validate_name(will.topic) != topic::TopicError::ok) {
      return fail(ReasonCode::topic_name_invalid, "[MQTT-3.1.3-11] invalid Will Topic");
    }
    connect.will = will;
  }
  if (has_username) connect.username = r.utf8();  // [MQTT-3.1.3-12]
  if (has_password) connect.password = r.binary();
  if (!r.failed() && connect.properties.authentication_data &&
      !connect.properties.authentication_method) {
    return fail(ReasonCode::protocol_error,
                "Authentication Data without Authentication Method (MQTT 5.0 3.1.2.11.10)");
  }
  return finish(r, std::move(connect));
}

DecodeResult decode_connack(std::string_view body, ProtocolVersion version) {
  wire::Reader r(body);
  std::uint8_t flags = r.u8();
  std::uint8_t code = r.u8();
  if (r.failed()) return unexpected(r.error());
  // Bits 7-1 of the Connect Acknowledge Flags are reserved (MQTT 5.0 3.2.2.1).
  if (flags & 0xFE) {
    return fail(ReasonCode::malformed_packet, "CONNACK reserved flag set (MQTT 5.0 3.2.2.1)");
  }
  Connack connack;
  connack.session_present = (flags & 0x01) != 0;
  if (version == ProtocolVersion::v5) {
    connack.reason_code = static_cast<ReasonCode>(code);
    if (!is_valid_for(connack.reason_code, PacketType::connack)) {
      return fail(ReasonCode::malformed_packet,
                  "CONNACK reason code not defined (MQTT 5.0 3.2.2.2)");
    }
    read_properties(r, PropertyContext::connack, connack.properties);
  } else {
    auto translated = from_connect_return_code(code);
    if (!translated) {
      return fail(ReasonCode::malformed_packet,
                  "CONNACK return code 6-255 is reserved (3.1.1 3.2.2.3)");
    }
    connack.reason_code = *translated;
  }
  // [MQTT-3.2.2-6] (5.0) / [MQTT-3.2.2-4] (3.1.1): a refusal never has Session Present.
  if (connack.session_present && connack.reason_code != ReasonCode::success) {
    return fail(ReasonCode::protocol_error, "[MQTT-3.2.2-6] Session Present with a refusal");
  }
  return finish(r, std::move(connack));
}

}  // namespace cicada::codec::detail
