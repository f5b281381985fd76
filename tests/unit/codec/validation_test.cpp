// One negative test per validation rule: hand-built bytes that break exactly one rule,
// and the reason code the specification asks the receiver to report.
#include <gtest/gtest.h>

#include <cicada/codec/decode.hpp>
#include <cicada/codec/parser.hpp>

#include "bytes.hpp"

namespace cicada::codec {
namespace {

using namespace testing;
using enum ReasonCode;
constexpr auto v31 = ProtocolVersion::v3_1;
constexpr auto v311 = ProtocolVersion::v3_1_1;
constexpr auto v5 = ProtocolVersion::v5;

struct Case {
  std::string name;
  ProtocolVersion version;
  std::string bytes;
  ReasonCode expected;
};

// CONNECT variable header + payload for protocol "MQTT" level `level` with `flags`.
std::string connect_body(int level, int flags, std::string_view rest, bool v5_props = false) {
  return str(level == 3 ? "MQIsdp" : "MQTT") + b({level, flags}) + u16(60) +
         (v5_props ? props() : "") + std::string(rest);
}

std::vector<Case> cases() {
  const std::string pub_v5_prefix = str("t");  // topic "t", QoS 0
  return {
      // --- fixed header ---------------------------------------------------------
      {"reserved_packet_type_0", v311, b({0x00, 0x00}), malformed_packet},
      {"auth_packet_in_311", v311, b({0xF0, 0x00}), malformed_packet},
      {"connack_reserved_flags", v311, packet(0x21, b({0, 0})), malformed_packet},
      {"pingreq_reserved_flags", v311, b({0xC1, 0x00}), malformed_packet},
      {"puback_reserved_flags", v5, packet(0x48, u16(1)), malformed_packet},
      {"pubrel_flags_not_0010", v311, packet(0x60, u16(1)), malformed_packet},
      {"subscribe_flags_not_0010", v311, packet(0x80, u16(1) + str("a") + b({0})),
       malformed_packet},
      {"unsubscribe_flags_not_0010", v311, packet(0xA0, u16(1) + str("a")), malformed_packet},
      {"publish_qos_3", v311, packet(0x36, str("t") + u16(1)), malformed_packet},
      {"publish_dup_on_qos_0", v311, packet(0x38, str("t")), malformed_packet},
      {"remaining_length_5_bytes", v311, b({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), malformed_packet},
      {"remaining_length_not_minimal", v311, b({0xC0, 0x80, 0x00}), malformed_packet},
      {"remaining_length_too_short", v311, b({0x40, 0x01, 0x00}), malformed_packet},
      {"remaining_length_too_long", v311, b({0x40, 0x03, 0x00, 0x01, 0x00}), malformed_packet},
      {"pingreq_with_body", v311, b({0xC0, 0x01, 0x00}), malformed_packet},
      {"pingresp_with_body", v5, b({0xD0, 0x01, 0x00}), malformed_packet},
      {"disconnect_311_with_body", v311, b({0xE0, 0x01, 0x00}), malformed_packet},

      // --- UTF-8 strings [MQTT-1.5.4-1] [MQTT-1.5.4-2] ----------------------------
      {"utf8_invalid_byte", v311, packet(0x30, str("a\xFF")), malformed_packet},
      {"utf8_null_character", v311, packet(0x30, str(std::string_view("a\0b", 3))),
       malformed_packet},
      {"utf8_surrogate", v311, packet(0x30, str("\xED\xA0\x80")), malformed_packet},
      {"utf8_overlong", v311, packet(0x30, str("\xC0\xAF")), malformed_packet},
      {"utf8_truncated_sequence", v311, packet(0x30, str("\xE2\x82")), malformed_packet},
      {"utf8_above_u10ffff", v311, packet(0x30, str("\xF4\x90\x80\x80")), malformed_packet},
      {"string_length_beyond_packet", v311, packet(0x30, b({0x00, 0x09, 'a'})), malformed_packet},
      {"client_id_invalid_utf8", v311, packet(0x10, connect_body(4, 0x02, str("\xC3"))),
       malformed_packet},

      // --- CONNECT [MQTT-3.1.2-*] ---------------------------------------------------
      {"connect_unknown_protocol_name", v311,
       packet(0x10, str("MQTX") + b({4, 0x02}) + u16(60) + str("c")), protocol_error},
      {"connect_unsupported_level", v311, packet(0x10, connect_body(6, 0x02, str("c"))),
       unsupported_protocol_version},
      {"connect_mqisdp_with_level_4", v311,
       packet(0x10, str("MQIsdp") + b({4, 0x02}) + u16(60) + str("c")),
       unsupported_protocol_version},
      {"connect_mqtt_with_level_3", v311,
       packet(0x10, str("MQTT") + b({3, 0x02}) + u16(60) + str("c")), unsupported_protocol_version},
      {"connect_reserved_flag", v311, packet(0x10, connect_body(4, 0x03, str("c"))),
       malformed_packet},
      {"connect_will_qos_3", v311,
       packet(0x10, connect_body(4, 0x1E, str("c") + str("w") + str("p"))), malformed_packet},
      {"connect_will_qos_without_will", v311, packet(0x10, connect_body(4, 0x0A, str("c"))),
       malformed_packet},
      {"connect_will_retain_without_will", v311, packet(0x10, connect_body(4, 0x22, str("c"))),
       malformed_packet},
      {"connect_password_without_username_311", v311,
       packet(0x10, connect_body(4, 0x42, str("c") + str("pw"))), malformed_packet},
      {"connect_will_topic_wildcard", v311,
       packet(0x10, connect_body(4, 0x06, str("c") + str("w/#") + str("p"))), topic_name_invalid},
      {"connect_trailing_bytes", v311, packet(0x10, connect_body(4, 0x02, str("c") + b({0}))),
       malformed_packet},
      {"connect_missing_client_id", v311, packet(0x10, connect_body(4, 0x02, "")),
       malformed_packet},
      {"connect_v5_auth_data_without_method", v5,
       packet(0x10, str("MQTT") + b({5, 0x02}) + u16(60) + props(b({0x16}) + str("d")) + str("c")),
       protocol_error},
      {"connect_v5_will_property_not_allowed", v5,
       packet(0x10, str("MQTT") + b({5, 0x06}) + u16(60) + props() + str("c") +
                        props(b({0x11, 0, 0, 0, 1})) + str("w") + str("p")),
       malformed_packet},

      // --- CONNACK ------------------------------------------------------------------
      {"connack_reserved_ack_flags", v311, packet(0x20, b({0x02, 0x00})), malformed_packet},
      {"connack_311_return_code_6", v311, packet(0x20, b({0x00, 0x06})), malformed_packet},
      {"connack_v5_reason_not_for_connack", v5, packet(0x20, b({0x00, 0x04}) + props()),
       malformed_packet},
      {"connack_session_present_with_refusal", v311, packet(0x20, b({0x01, 0x05})), protocol_error},

      // --- PUBLISH --------------------------------------------------------------------
      {"publish_packet_id_0", v311, packet(0x32, str("t") + u16(0)), protocol_error},
      {"publish_topic_plus_wildcard", v311, packet(0x30, str("a/+")), topic_name_invalid},
      {"publish_topic_hash_wildcard", v5, packet(0x30, str("#") + props()), topic_name_invalid},
      {"publish_empty_topic_311", v311, packet(0x30, str("")), malformed_packet},
      {"publish_empty_topic_v5_without_alias", v5, packet(0x30, str("") + props()), protocol_error},
      {"publish_topic_alias_0", v5, packet(0x30, str("t") + props(b({0x23, 0, 0}))),
       topic_alias_invalid},
      {"publish_response_topic_wildcard", v5,
       packet(0x30, str("t") + props(b({0x08}) + str("r/+"))), protocol_error},

      // --- properties (MQTT 5.0 2.2.2) ----------------------------------------------
      {"property_unknown_identifier", v5, packet(0x30, pub_v5_prefix + props(b({0x05, 0}))),
       malformed_packet},
      {"property_not_allowed_in_packet", v5,
       packet(0x30, pub_v5_prefix + props(b({0x11, 0, 0, 0, 1}))), malformed_packet},
      {"property_repeated", v5,
       packet(0x30, pub_v5_prefix + props(b({0x03}) + str("a") + b({0x03}) + str("b"))),
       protocol_error},
      {"property_identifier_not_minimal_varint", v5,
       packet(0x30, pub_v5_prefix + props(b({0x81, 0x00, 0}))), malformed_packet},
      {"property_length_beyond_packet", v5, packet(0x30, pub_v5_prefix + b({0x05, 0x01, 0x00})),
       malformed_packet},
      {"property_value_truncated", v5, packet(0x30, pub_v5_prefix + props(b({0x02, 0, 0}))),
       malformed_packet},
      {"payload_format_indicator_2", v5, packet(0x30, pub_v5_prefix + props(b({0x01, 2}))),
       protocol_error},
      {"receive_maximum_0", v5,
       packet(0x10, str("MQTT") + b({5, 0x02}) + u16(60) + props(b({0x21, 0, 0})) + str("c")),
       protocol_error},
      {"maximum_packet_size_0", v5,
       packet(0x10, str("MQTT") + b({5, 0x02}) + u16(60) + props(b({0x27, 0, 0, 0, 0})) + str("c")),
       protocol_error},
      {"request_problem_information_2", v5,
       packet(0x10, str("MQTT") + b({5, 0x02}) + u16(60) + props(b({0x17, 2})) + str("c")),
       protocol_error},
      {"request_response_information_2", v5,
       packet(0x10, str("MQTT") + b({5, 0x02}) + u16(60) + props(b({0x19, 2})) + str("c")),
       protocol_error},
      {"maximum_qos_2", v5, packet(0x20, b({0, 0}) + props(b({0x24, 2}))), protocol_error},
      {"retain_available_2", v5, packet(0x20, b({0, 0}) + props(b({0x25, 2}))), protocol_error},
      {"wildcard_available_2", v5, packet(0x20, b({0, 0}) + props(b({0x28, 2}))), protocol_error},
      {"subscription_id_available_2", v5, packet(0x20, b({0, 0}) + props(b({0x29, 2}))),
       protocol_error},
      {"shared_available_2", v5, packet(0x20, b({0, 0}) + props(b({0x2A, 2}))), protocol_error},
      {"subscription_identifier_0", v5,
       packet(0x82, u16(1) + props(b({0x0B, 0})) + str("a") + b({0})), protocol_error},
      {"subscription_identifier_twice_in_subscribe", v5,
       packet(0x82, u16(1) + props(b({0x0B, 1, 0x0B, 2})) + str("a") + b({0})), protocol_error},
      {"utf8_pair_invalid", v5,
       packet(0x30, pub_v5_prefix + props(b({0x26}) + str("k") + str("\xFF"))), malformed_packet},

      // --- acknowledgements -------------------------------------------------------------
      {"puback_packet_id_0", v311, packet(0x40, u16(0)), protocol_error},
      {"pubrec_packet_id_0", v5, packet(0x50, u16(0)), protocol_error},
      {"puback_v5_reason_not_for_puback", v5, packet(0x40, u16(1) + b({0x04})), malformed_packet},
      {"pubrel_v5_reason_not_for_pubrel", v5, packet(0x62, u16(1) + b({0x10})), malformed_packet},
      {"pubcomp_v5_reason_not_for_pubcomp", v5, packet(0x70, u16(1) + b({0x80})), malformed_packet},
      {"puback_311_with_reason", v311, packet(0x40, u16(1) + b({0x00})), malformed_packet},
      {"disconnect_v5_reason_not_for_disconnect", v5, packet(0xE0, b({0x05})), malformed_packet},
      {"disconnect_v5_property_not_allowed", v5, packet(0xE0, b({0x00}) + props(b({0x13, 0, 1}))),
       malformed_packet},
      {"auth_reason_not_for_auth", v5, packet(0xF0, b({0x01})), malformed_packet},
      {"auth_data_without_method", v5, packet(0xF0, b({0x18}) + props(b({0x16}) + str("d"))),
       protocol_error},

      // --- SUBSCRIBE / UNSUBSCRIBE and their acks ---------------------------------------
      {"subscribe_no_filters", v311, packet(0x82, u16(1)), protocol_error},
      {"subscribe_packet_id_0", v311, packet(0x82, u16(0) + str("a") + b({0})), protocol_error},
      {"subscribe_empty_filter", v311, packet(0x82, u16(1) + str("") + b({0})),
       topic_filter_invalid},
      {"subscribe_hash_not_last", v311, packet(0x82, u16(1) + str("a/#/b") + b({0})),
       topic_filter_invalid},
      {"subscribe_hash_sharing_level", v311, packet(0x82, u16(1) + str("a#") + b({0})),
       topic_filter_invalid},
      {"subscribe_plus_sharing_level", v311, packet(0x82, u16(1) + str("a/b+") + b({0})),
       topic_filter_invalid},
      {"subscribe_share_without_filter", v5,
       packet(0x82, u16(1) + props() + str("$share/g") + b({0})), topic_filter_invalid},
      {"subscribe_share_empty_name", v5, packet(0x82, u16(1) + props() + str("$share//a") + b({0})),
       topic_filter_invalid},
      {"subscribe_share_name_with_wildcard", v5,
       packet(0x82, u16(1) + props() + str("$share/g+/a") + b({0})), topic_filter_invalid},
      {"subscribe_missing_options_byte", v311, packet(0x82, u16(1) + str("a")), malformed_packet},
      {"subscribe_311_reserved_option_bits", v311, packet(0x82, u16(1) + str("a") + b({0x04})),
       malformed_packet},
      {"subscribe_311_qos_3", v311, packet(0x82, u16(1) + str("a") + b({0x03})), malformed_packet},
      {"subscribe_v5_reserved_option_bits", v5,
       packet(0x82, u16(1) + props() + str("a") + b({0x40})), malformed_packet},
      {"subscribe_v5_qos_3", v5, packet(0x82, u16(1) + props() + str("a") + b({0x03})),
       protocol_error},
      {"subscribe_v5_retain_handling_3", v5, packet(0x82, u16(1) + props() + str("a") + b({0x30})),
       protocol_error},
      {"subscribe_v5_no_local_on_shared", v5,
       packet(0x82, u16(1) + props() + str("$share/g/a") + b({0x04})), protocol_error},
      {"unsubscribe_no_filters", v311, packet(0xA2, u16(1)), protocol_error},
      {"unsubscribe_invalid_filter", v5, packet(0xA2, u16(1) + props() + str("a/#/b")),
       topic_filter_invalid},
      {"unsubscribe_packet_id_0", v311, packet(0xA2, u16(0) + str("a")), protocol_error},
      {"suback_311_code_3", v311, packet(0x90, u16(1) + b({0x03})), malformed_packet},
      {"suback_31_failure_code", v31, packet(0x90, u16(1) + b({0x80})), malformed_packet},
      {"suback_v5_reason_not_for_suback", v5, packet(0x90, u16(1) + props() + b({0x11})),
       malformed_packet},
      {"suback_no_codes", v311, packet(0x90, u16(1)), protocol_error},
      {"unsuback_v5_no_codes", v5, packet(0xB0, u16(1) + props()), protocol_error},
      {"unsuback_v5_reason_not_for_unsuback", v5, packet(0xB0, u16(1) + props() + b({0x10})),
       malformed_packet},
      {"unsuback_311_with_codes", v311, packet(0xB0, u16(1) + b({0x00})), malformed_packet},
  };
}

class Validation : public ::testing::TestWithParam<Case> {};

TEST_P(Validation, IsRejectedWithTheRightReasonCode) {
  const Case& c = GetParam();
  auto decoded = decode_packet(c.bytes, c.version);
  ASSERT_FALSE(decoded) << "decoded as packet type " << static_cast<int>(type_of(*decoded));
  EXPECT_EQ(decoded.error().code, c.expected)
      << "got " << to_string(decoded.error().code) << ": " << decoded.error().detail;
  EXPECT_FALSE(decoded.error().detail.empty());

  // The incremental parser reports the same error, whether fed whole or byte by byte.
  Parser whole({.version = c.version});
  whole.feed(c.bytes);
  auto from_whole = whole.next();
  // A packet whose declared length runs past the bytes given is incomplete to a
  // stream parser, not malformed: it waits for more.
  if (from_whole && !from_whole->has_value()) return;
  ASSERT_FALSE(from_whole);
  EXPECT_EQ(from_whole.error().code, c.expected);
  // ... and keeps reporting it: a failed stream cannot be resynchronised.
  auto again = whole.next();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Rules, Validation, ::testing::ValuesIn(cases()),
                         [](const auto& param_info) { return param_info.param.name; });

// Valid edge cases next to the rules above, so the rules are not too strict.
TEST(ValidationAccepts, EdgeCasesTheSpecificationAllows) {
  struct Ok {
    ProtocolVersion version;
    std::string bytes;
  };
  const Ok accepted[] = {
      {v5, packet(0x30, str("") + props(b({0x23, 0, 1})))},  // empty topic with an alias
      {v5, packet(0x10, str("MQTT") + b({5, 0x42}) + u16(0) + props() + str("") + str("pw"))},
      {v5, packet(0x40, u16(1))},                       // PUBACK success, RL 2
      {v5, packet(0x40, u16(1) + b({0x10}))},           // reason without properties
      {v5, packet(0xE0, "")},                           // DISCONNECT RL 0
      {v5, packet(0xE0, b({0x04}))},                    // reason, no property length
      {v5, packet(0xF0, "")},                           // AUTH RL 0
      {v311, packet(0x30, str("$SYS/a") + "payload")},  // '$' topics are ordinary names
      {v311, packet(0x82, u16(1) + str("/") + b({0}) + str("a//b") + b({1}))},
      {v31, packet(0x6A, u16(1))},  // MQTT 3.1 PUBREL with DUP on a resend
      // User Property may repeat, even with the same name.
      {v5, packet(0x30, str("t") + props(b({0x26}) + str("k") + str("1") + b({0x26}) + str("k") +
                                         str("2")))},
  };
  for (const auto& ok : accepted) {
    auto decoded = decode_packet(ok.bytes, ok.version);
    EXPECT_TRUE(decoded) << decoded.error().detail;
  }
}

}  // namespace
}  // namespace cicada::codec
