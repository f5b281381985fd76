// MQTT 5 properties (MQTT 5.0 section 2.2.2.2): identifiers, wire types, the packets
// each may appear in, and Properties, the decoded set carried by a packet.
// String and binary values are views into the packet's receive buffer (or into
// storage the caller keeps alive while encoding).
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <cicada/codec/types.hpp>

namespace cicada::codec {

enum class PropertyId : std::uint8_t {
  payload_format_indicator = 0x01,
  message_expiry_interval = 0x02,
  content_type = 0x03,
  response_topic = 0x08,
  correlation_data = 0x09,
  subscription_identifier = 0x0B,
  session_expiry_interval = 0x11,
  assigned_client_identifier = 0x12,
  server_keep_alive = 0x13,
  authentication_method = 0x15,
  authentication_data = 0x16,
  request_problem_information = 0x17,
  will_delay_interval = 0x18,
  request_response_information = 0x19,
  response_information = 0x1A,
  server_reference = 0x1C,
  reason_string = 0x1F,
  receive_maximum = 0x21,
  topic_alias_maximum = 0x22,
  topic_alias = 0x23,
  maximum_qos = 0x24,
  retain_available = 0x25,
  user_property = 0x26,
  maximum_packet_size = 0x27,
  wildcard_subscription_available = 0x28,
  subscription_identifier_available = 0x29,
  shared_subscription_available = 0x2A,
};

enum class PropertyType : std::uint8_t {
  byte,
  two_byte_integer,
  four_byte_integer,
  variable_byte_integer,
  utf8_string,
  binary_data,
  utf8_string_pair,
};

// Where a property may appear. The Will Properties of CONNECT are a context of their
// own: they take PUBLISH-like properties that CONNECT itself does not.
enum class PropertyContext : std::uint8_t {
  connect,
  connack,
  publish,
  will,
  puback,
  pubrec,
  pubrel,
  pubcomp,
  subscribe,
  suback,
  unsubscribe,
  unsuback,
  disconnect,
  auth,
};

struct PropertyInfo {
  PropertyId id;
  PropertyType type;
  std::string_view name;
  std::uint16_t contexts;  // bit (1 << PropertyContext)
  bool repeatable;         // User Property; Subscription Identifier in PUBLISH
};

// nullptr for an identifier the specification does not define.
const PropertyInfo* property_info(std::uint8_t id) noexcept;
bool is_allowed_in(PropertyId id, PropertyContext context) noexcept;

struct UserProperty {
  std::string_view name;
  std::string_view value;
  bool operator==(const UserProperty&) const = default;
};

// How a decoded property block was laid out on the wire: the identifiers in order of
// appearance, and whether a Property Length (and the Reason Code before it) was sent
// where the specification lets a sender leave it out. The encoder follows it, so a
// decoded packet re-encodes byte for byte whatever order its sender chose. It is not
// part of the packet's value: it never affects equality.
struct WireLayout {
  static constexpr std::size_t max_recorded = 32;  // later occurrences: identifier order
  std::array<std::uint8_t, max_recorded> ids{};
  std::uint8_t count = 0;
  bool length_present = false;  // a Property Length was on the wire
  bool reason_present = false;  // a Reason Code was on the wire, even if Success
  bool operator==(const WireLayout&) const noexcept { return true; }
};

// Every property the specification defines, each present or absent. Fields are in
// identifier order, the order the encoder writes them in unless `layout` recorded
// another.
struct Properties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<std::string_view> correlation_data;  // binary
  // PUBLISH (server to client) may carry several; SUBSCRIBE at most one [MQTT-3.8.2.1.2].
  std::vector<std::uint32_t> subscription_identifiers;
  std::optional<std::uint32_t> session_expiry_interval;
  std::optional<std::string_view> assigned_client_identifier;
  std::optional<std::uint16_t> server_keep_alive;
  std::optional<std::string_view> authentication_method;
  std::optional<std::string_view> authentication_data;  // binary
  std::optional<std::uint8_t> request_problem_information;
  std::optional<std::uint32_t> will_delay_interval;
  std::optional<std::uint8_t> request_response_information;
  std::optional<std::string_view> response_information;
  std::optional<std::string_view> server_reference;
  std::optional<std::string_view> reason_string;
  std::optional<std::uint16_t> receive_maximum;
  std::optional<std::uint16_t> topic_alias_maximum;
  std::optional<std::uint16_t> topic_alias;
  std::optional<std::uint8_t> maximum_qos;
  std::optional<std::uint8_t> retain_available;
  // Kept in the order received; a server forwards them in that order [MQTT-3.3.2-18].
  std::vector<UserProperty> user_properties;
  std::optional<std::uint32_t> maximum_packet_size;
  std::optional<std::uint8_t> wildcard_subscription_available;
  std::optional<std::uint8_t> subscription_identifier_available;
  std::optional<std::uint8_t> shared_subscription_available;

  WireLayout layout;

  bool empty() const noexcept;
  bool operator==(const Properties&) const = default;
};

}  // namespace cicada::codec
