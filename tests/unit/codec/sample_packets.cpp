#include "sample_packets.hpp"

namespace cicada::codec::testing {

Properties every_property(PropertyContext context) {
  Properties p;
  auto allowed = [&](PropertyId id) { return is_allowed_in(id, context); };
  using I = PropertyId;
  if (allowed(I::payload_format_indicator)) p.payload_format_indicator = 1;
  if (allowed(I::message_expiry_interval)) p.message_expiry_interval = 3600;
  if (allowed(I::content_type)) p.content_type = "application/json";
  if (allowed(I::response_topic)) p.response_topic = "reply/to/me";
  if (allowed(I::correlation_data)) p.correlation_data = std::string_view("\x00\x01\xff", 3);
  if (allowed(I::subscription_identifier)) {
    p.subscription_identifiers = {1, 268'435'455};
    if (context == PropertyContext::subscribe) p.subscription_identifiers = {16'384};
  }
  if (allowed(I::session_expiry_interval)) p.session_expiry_interval = 0xFFFFFFFF;
  if (allowed(I::assigned_client_identifier)) p.assigned_client_identifier = "auto-1234";
  if (allowed(I::server_keep_alive)) p.server_keep_alive = 30;
  if (allowed(I::authentication_method)) p.authentication_method = "SCRAM-SHA-1";
  if (allowed(I::authentication_data)) p.authentication_data = std::string_view("\x01\x02", 2);
  if (allowed(I::request_problem_information)) p.request_problem_information = 0;
  if (allowed(I::will_delay_interval)) p.will_delay_interval = 10;
  if (allowed(I::request_response_information)) p.request_response_information = 1;
  if (allowed(I::response_information)) p.response_information = "responses/";
  if (allowed(I::server_reference)) p.server_reference = "other.example:1883";
  if (allowed(I::reason_string)) p.reason_string = "because";
  if (allowed(I::receive_maximum)) p.receive_maximum = 20;
  if (allowed(I::topic_alias_maximum)) p.topic_alias_maximum = 10;
  if (allowed(I::topic_alias)) p.topic_alias = 7;
  if (allowed(I::maximum_qos)) p.maximum_qos = 1;
  if (allowed(I::retain_available)) p.retain_available = 0;
  if (allowed(I::user_property)) p.user_properties = {{"b-key", "1"}, {"a-key", "ü"}};
  if (allowed(I::maximum_packet_size)) p.maximum_packet_size = 1 << 20;
  if (allowed(I::wildcard_subscription_available)) p.wildcard_subscription_available = 0;
  if (allowed(I::subscription_identifier_available)) p.subscription_identifier_available = 1;
  if (allowed(I::shared_subscription_available)) p.shared_subscription_available = 0;
  return p;
}

std::vector<Sample> samples(ProtocolVersion version) {
  using C = PropertyContext;
  const bool v5 = version == ProtocolVersion::v5;
  auto props = [&](C context) { return v5 ? every_property(context) : Properties{}; };
  std::vector<Sample> out;
  auto add = [&](std::string name, Packet packet) {
    out.push_back({std::move(name), version, std::move(packet)});
  };

  add("connect_minimal", Connect{.version = version, .client_id = "c"});
  Connect full{.version = version,
               .clean_start = false,
               .keep_alive = 65535,
               .client_id = "client-ü",
               .will = Will{.topic = "will/topic",
                            .payload = std::string_view("bye\0", 4),
                            .qos = QoS::exactly_once,
                            .retain = true,
                            .properties = props(C::will)},
               .username = "user",
               .password = std::string_view("p\0ss", 4),
               .properties = props(C::connect)};
  add("connect_full", full);
  if (v5) add("connect_password_without_username", Connect{.version = version, .password = "x"});

  add("connack_accepted", Connack{});
  add("connack_session_present", Connack{.session_present = true, .properties = props(C::connack)});
  add("connack_refused", Connack{.reason_code = ReasonCode::not_authorized});

  add("publish_qos0", Publish{.topic = "a/b", .payload = "hello"});
  add("publish_qos1_dup_retain", Publish{.dup = true,
                                         .qos = QoS::at_least_once,
                                         .retain = true,
                                         .topic = "$SYS/x",
                                         .packet_id = 1,
                                         .properties = props(C::publish),
                                         .payload = std::string_view("\0\xff", 2)});
  add("publish_qos2_empty_payload",
      Publish{.qos = QoS::exactly_once, .topic = "t", .packet_id = 65535});
  if (v5) {
    add("publish_alias_only_topic",
        Publish{.topic = "", .properties = Properties{.topic_alias = 3}, .payload = "x"});
  }

  add("puback", Puback{.packet_id = 7});
  add("pubrec", Pubrec{.packet_id = 8});
  add("pubrel", Pubrel{.packet_id = 9});
  add("pubcomp", Pubcomp{.packet_id = 10});
  if (v5) {
    add("puback_reason_only", Puback{.packet_id = 1, .reason_code = ReasonCode::quota_exceeded});
    add("puback_full", Puback{.packet_id = 2,
                              .reason_code = ReasonCode::not_authorized,
                              .properties = props(C::puback)});
    add("pubrec_full", Pubrec{.packet_id = 3,
                              .reason_code = ReasonCode::no_matching_subscribers,
                              .properties = props(C::pubrec)});
    add("pubrel_full", Pubrel{.packet_id = 4,
                              .reason_code = ReasonCode::packet_identifier_not_found,
                              .properties = props(C::pubrel)});
    add("pubcomp_full", Pubcomp{.packet_id = 5, .properties = props(C::pubcomp)});
  }

  Subscribe subscribe{.packet_id = 11, .properties = props(C::subscribe)};
  subscribe.subscriptions.push_back({"a/+/c", {.max_qos = QoS::at_most_once}});
  subscribe.subscriptions.push_back({"#", {.max_qos = QoS::at_least_once}});
  subscribe.subscriptions.push_back({"$share/g/x/#", {.max_qos = QoS::exactly_once}});
  if (v5) {
    subscribe.subscriptions.push_back({"opts/all",
                                       {.max_qos = QoS::exactly_once,
                                        .no_local = true,
                                        .retain_as_published = true,
                                        .retain_handling = RetainHandling::do_not_send}});
    subscribe.subscriptions.push_back(
        {"opts/rh1", {.retain_handling = RetainHandling::send_if_new_subscription}});
  }
  add("subscribe", subscribe);

  Suback suback{.packet_id = 11, .properties = props(C::suback)};
  suback.reason_codes = {ReasonCode::success, ReasonCode::granted_qos_1, ReasonCode::granted_qos_2};
  if (version != ProtocolVersion::v3_1)
    suback.reason_codes.push_back(ReasonCode::unspecified_error);
  if (v5) suback.reason_codes.push_back(ReasonCode::wildcard_subscriptions_not_supported);
  add("suback", suback);

  add("unsubscribe", Unsubscribe{.packet_id = 12,
                                 .properties = props(C::unsubscribe),
                                 .filters = {"a/+/c", "#", "$share/g/x"}});
  Unsuback unsuback{.packet_id = 12};
  if (v5) {
    unsuback.properties = props(C::unsuback);
    unsuback.reason_codes = {ReasonCode::success, ReasonCode::no_subscription_existed};
  }
  add("unsuback", unsuback);

  add("pingreq", Pingreq{});
  add("pingresp", Pingresp{});
  add("disconnect", Disconnect{});
  if (v5) {
    add("disconnect_reason_only", Disconnect{.reason_code = ReasonCode::session_taken_over});
    add("disconnect_full", Disconnect{.reason_code = ReasonCode::disconnect_with_will_message,
                                      .properties = props(C::disconnect)});
    add("auth_empty", Auth{});
    add("auth_full",
        Auth{.reason_code = ReasonCode::continue_authentication, .properties = props(C::auth)});
    add("auth_reason_only", Auth{.reason_code = ReasonCode::re_authenticate});
  }
  return out;
}

}  // namespace cicada::codec::testing
