#include <array>

#include <cicada/codec/properties.hpp>

namespace cicada::codec {
namespace {

constexpr std::uint16_t bit(PropertyContext context) {
  return static_cast<std::uint16_t>(1u << static_cast<unsigned>(context));
}

using C = PropertyContext;
using T = PropertyType;
using I = PropertyId;

constexpr std::uint16_t message_contexts = bit(C::publish) | bit(C::will);
constexpr std::uint16_t reason_string_contexts =
    bit(C::connack) | bit(C::puback) | bit(C::pubrec) | bit(C::pubrel) | bit(C::pubcomp) |
    bit(C::suback) | bit(C::unsuback) | bit(C::disconnect) | bit(C::auth);
constexpr std::uint16_t every_context = 0x3FFF;

// MQTT 5.0 section 2.2.2.2, table "Properties".
constexpr PropertyInfo table[] = {
    {I::payload_format_indicator, T::byte, "Payload Format Indicator", message_contexts, false},
    {I::message_expiry_interval, T::four_byte_integer, "Message Expiry Interval", message_contexts,
     false},
    {I::content_type, T::utf8_string, "Content Type", message_contexts, false},
    {I::response_topic, T::utf8_string, "Response Topic", message_contexts, false},
    {I::correlation_data, T::binary_data, "Correlation Data", message_contexts, false},
    {I::subscription_identifier, T::variable_byte_integer, "Subscription Identifier",
     bit(C::publish) | bit(C::subscribe), true},
    {I::session_expiry_interval, T::four_byte_integer, "Session Expiry Interval",
     bit(C::connect) | bit(C::connack) | bit(C::disconnect), false},
    {I::assigned_client_identifier, T::utf8_string, "Assigned Client Identifier", bit(C::connack),
     false},
    {I::server_keep_alive, T::two_byte_integer, "Server Keep Alive", bit(C::connack), false},
    {I::authentication_method, T::utf8_string, "Authentication Method",
     bit(C::connect) | bit(C::connack) | bit(C::auth), false},
    {I::authentication_data, T::binary_data, "Authentication Data",
     bit(C::connect) | bit(C::connack) | bit(C::auth), false},
    {I::request_problem_information, T::byte, "Request Problem Information", bit(C::connect),
     false},
    {I::will_delay_interval, T::four_byte_integer, "Will Delay Interval", bit(C::will), false},
    {I::request_response_information, T::byte, "Request Response Information", bit(C::connect),
     false},
    {I::response_information, T::utf8_string, "Response Information", bit(C::connack), false},
    {I::server_reference, T::utf8_string, "Server Reference", bit(C::connack) | bit(C::disconnect),
     false},
    {I::reason_string, T::utf8_string, "Reason String", reason_string_contexts, false},
    {I::receive_maximum, T::two_byte_integer, "Receive Maximum", bit(C::connect) | bit(C::connack),
     false},
    {I::topic_alias_maximum, T::two_byte_integer, "Topic Alias Maximum",
     bit(C::connect) | bit(C::connack), false},
    {I::topic_alias, T::two_byte_integer, "Topic Alias", bit(C::publish), false},
    {I::maximum_qos, T::byte, "Maximum QoS", bit(C::connack), false},
    {I::retain_available, T::byte, "Retain Available", bit(C::connack), false},
    {I::user_property, T::utf8_string_pair, "User Property", every_context, true},
    {I::maximum_packet_size, T::four_byte_integer, "Maximum Packet Size",
     bit(C::connect) | bit(C::connack), false},
    {I::wildcard_subscription_available, T::byte, "Wildcard Subscription Available",
     bit(C::connack), false},
    {I::subscription_identifier_available, T::byte, "Subscription Identifier Available",
     bit(C::connack), false},
    {I::shared_subscription_available, T::byte, "Shared Subscription Available", bit(C::connack),
     false},
};

// Direct lookup by identifier: identifiers are all below 0x2B.
constexpr std::array<const PropertyInfo*, 0x2B> make_index() {
  std::array<const PropertyInfo*, 0x2B> index{};
  for (const auto& info : table)
    index[static_cast<std::size_t>(info.id)] = &info;
  return index;
}
constexpr auto index = make_index();

}  // namespace

const PropertyInfo* property_info(std::uint8_t id) noexcept {
  return id < index.size() ? index[id] : nullptr;
}

bool is_allowed_in(PropertyId id, PropertyContext context) noexcept {
  const PropertyInfo* info = property_info(static_cast<std::uint8_t>(id));
  return info != nullptr && (info->contexts & bit(context)) != 0;
}

// Field by field, stopping at the first present one. It runs several times for every
// packet encoded (once per size pass and once to write): comparing with a default
// Properties built per call was most of encoding a PUBACK (codec_bench encode_puback).
// A field added to Properties must be added here: the size check below fails first.
static_assert(sizeof(Properties) == 384, "a new Properties field: add it to empty()");
bool Properties::empty() const noexcept {
  return !payload_format_indicator && !message_expiry_interval && !content_type &&
         !response_topic && !correlation_data && subscription_identifiers.empty() &&
         !session_expiry_interval && !assigned_client_identifier && !server_keep_alive &&
         !authentication_method && !authentication_data && !request_problem_information &&
         !will_delay_interval && !request_response_information && !response_information &&
         !server_reference && !reason_string && !receive_maximum && !topic_alias_maximum &&
         !topic_alias && !maximum_qos && !retain_available && user_properties.empty() &&
         !maximum_packet_size && !wildcard_subscription_available &&
         !subscription_identifier_available && !shared_subscription_available;
}

}  // namespace cicada::codec
