#include "property_codec.hpp"

#include <cstdint>

namespace cicada::codec::detail {
namespace {

using I = PropertyId;

// Range rules stated with each property in MQTT 5.0 section 3; a violation is a
// Protocol Error unless the statement names another code.
void check_boolean(wire::Reader& reader, std::uint8_t value, std::string_view detail) {
  if (value > 1) reader.fail(ReasonCode::protocol_error, detail);
}

void read_one(wire::Reader& reader, const PropertyInfo& info, PropertyContext context,
              Properties& out) {
  switch (info.id) {
    case I::payload_format_indicator:
      out.payload_format_indicator = reader.u8();
      check_boolean(reader, *out.payload_format_indicator,
                    "Payload Format Indicator other than 0 or 1 (MQTT 5.0 3.3.2.3.2)");
      break;
    case I::message_expiry_interval:
      out.message_expiry_interval = reader.u32();
      break;
    case I::content_type:
      out.content_type = reader.utf8();
      break;
    case I::response_topic:
      out.response_topic = reader.utf8();
      // [MQTT-3.3.2-14] a Response Topic is a topic name, so it has no wildcards.
      if (!reader.failed() && (out.response_topic->empty() ||
                               out.response_topic->find_first_of("+#") != std::string_view::npos)) {
        reader.fail(ReasonCode::protocol_error,
                    "[MQTT-3.3.2-14] Response Topic empty or with wildcards");
      }
      break;
    case I::correlation_data:
      out.correlation_data = reader.binary();
      break;
    case I::subscription_identifier: {
      std::uint32_t id = reader.varint();
      // MQTT 5.0 3.3.2.3.8 / 3.8.2.1.2: a value of 0 is a Protocol Error.
      if (!reader.failed() && id == 0) {
        reader.fail(ReasonCode::protocol_error,
                    "Subscription Identifier of 0 (MQTT 5.0 3.8.2.1.2)");
      }
      // In SUBSCRIBE it may appear once only (MQTT 5.0 3.8.2.1.2).
      if (context == PropertyContext::subscribe && !out.subscription_identifiers.empty()) {
        reader.fail(ReasonCode::protocol_error,
                    "Subscription Identifier more than once in SUBSCRIBE (MQTT 5.0 3.8.2.1.2)");
      }
      out.subscription_identifiers.push_back(id);
      break;
    }
    case I::session_expiry_interval:
      out.session_expiry_interval = reader.u32();
      break;
    case I::assigned_client_identifier:
      out.assigned_client_identifier = reader.utf8();
      break;
    case I::server_keep_alive:
      out.server_keep_alive = reader.u16();
      break;
    case I::authentication_method:
      out.authentication_method = reader.utf8();
      break;
    case I::authentication_data:
      out.authentication_data = reader.binary();
      break;
    case I::request_problem_information:
      out.request_problem_information = reader.u8();
      check_boolean(reader, *out.request_problem_information,
                    "Request Problem Information other than 0 or 1 (MQTT 5.0 3.1.2.11.7)");
      break;
    case I::will_delay_interval:
      out.will_delay_interval = reader.u32();
      break;
    case I::request_response_information:
      out.request_response_information = reader.u8();
      check_boolean(reader, *out.request_response_information,
                    "Request Response Information other than 0 or 1 (MQTT 5.0 3.1.2.11.6)");
      break;
    case I::response_information:
      out.response_information = reader.utf8();
      break;
    case I::server_reference:
      out.server_reference = reader.utf8();
      break;
    case I::reason_string:
      out.reason_string = reader.utf8();
      break;
    case I::receive_maximum:
      out.receive_maximum = reader.u16();
      if (!reader.failed() && *out.receive_maximum == 0) {
        reader.fail(ReasonCode::protocol_error, "Receive Maximum of 0 (MQTT 5.0 3.1.2.11.3)");
      }
      break;
    case I::topic_alias_maximum:
      out.topic_alias_maximum = reader.u16();
      break;
    case I::topic_alias:
      out.topic_alias = reader.u16();
      if (!reader.failed() && *out.topic_alias == 0) {
        reader.fail(ReasonCode::topic_alias_invalid, "[MQTT-3.3.2-8] Topic Alias of 0");
      }
      break;
    case I::maximum_qos:
      out.maximum_qos = reader.u8();
      check_boolean(reader, *out.maximum_qos, "Maximum QoS other than 0 or 1 (MQTT 5.0 3.2.2.3.4)");
      break;
    case I::retain_available:
      out.retain_available = reader.u8();
      check_boolean(reader, *out.retain_available,
                    "Retain Available other than 0 or 1 (MQTT 5.0 3.2.2.3.5)");
      break;
    case I::user_property: {
      std::string_view name = reader.utf8();
      std::string_view value = reader.utf8();
      if (!reader.failed()) out.user_properties.push_back({name, value});
      break;
    }
    case I::maximum_packet_size:
      out.maximum_packet_size = reader.u32();
      if (!reader.failed() && *out.maximum_packet_size == 0) {
        reader.fail(ReasonCode::protocol_error, "Maximum Packet Size of 0 (MQTT 5.0 3.1.2.11.4)");
      }
      break;
    case I::wildcard_subscription_available:
      out.wildcard_subscription_available = reader.u8();
      check_boolean(reader, *out.wildcard_subscription_available,
                    "Wildcard Subscription Available other than 0 or 1 (MQTT 5.0 3.2.2.3.11)");
      break;
    case I::subscription_identifier_available:
      out.subscription_identifier_available = reader.u8();
      check_boolean(reader, *out.subscription_identifier_available,
                    "Subscription Identifier Available other than 0 or 1 (MQTT 5.0 3.2.2.3.12)");
      break;
    case I::shared_subscription_available:
      out.shared_subscription_available = reader.u8();
      check_boolean(reader, *out.shared_subscription_available,
                    "Shared Subscription Available other than 0 or 1 (MQTT 5.0 3.2.2.3.13)");
      break;
  }
}

std::size_t string_size(const std::optional<std::string_view>& value) {
  return value ? 1 + 2 + value->size() : 0;
}
template <class Int>
std::size_t int_size(const std::optional<Int>& value) {
  return value ? 1 + sizeof(Int) : 0;
}

template <class Int>
void write_int(wire::Writer& writer, I id, const std::optional<Int>& value) {
  if (!value) return;
  writer.u8(static_cast<std::uint8_t>(id));
  if constexpr (sizeof(Int) == 1) writer.u8(*value);
  if constexpr (sizeof(Int) == 2) writer.u16(*value);
  if constexpr (sizeof(Int) == 4) writer.u32(*value);
}
void write_string(wire::Writer& writer, I id, const std::optional<std::string_view>& value) {
  if (!value) return;
  writer.u8(static_cast<std::uint8_t>(id));
  writer.binary(*value);
}

}  // namespace

void read_properties(wire::Reader& reader, PropertyContext context, Properties& out) {
  std::uint32_t length = reader.varint();
  if (reader.failed()) return;
  if (length > reader.remaining()) {
    reader.fail(ReasonCode::malformed_packet, "Property Length beyond the end of the packet");
    return;
  }
  wire::Reader block(reader.take(length));
  out.layout.length_present = true;
  std::uint64_t seen = 0;  // identifiers are below 64: one bit each
  while (!block.at_end() && !block.failed()) {
    // The identifier is a Variable Byte Integer (MQTT 5.0 2.2.2.2).
    std::uint32_t id = block.varint();
    if (block.failed()) break;
    const PropertyInfo* info = id <= 0xFF ? property_info(static_cast<std::uint8_t>(id)) : nullptr;
    // MQTT 5.0 2.2.2.2: an identifier not valid for the packet type is a Malformed Packet.
    if (info == nullptr) {
      block.fail(ReasonCode::malformed_packet, "unknown property identifier (MQTT 5.0 2.2.2.2)");
      break;
    }
    if (!is_allowed_in(info->id, context)) {
      block.fail(ReasonCode::malformed_packet,
                 "property not allowed in this packet (MQTT 5.0 2.2.2.2)");
      break;
    }
    std::uint64_t mask = std::uint64_t{1} << id;
    // Each property's section: including a non-repeatable one twice is a Protocol Error.
    if (!info->repeatable && (seen & mask) != 0) {
      block.fail(ReasonCode::protocol_error, "property included more than once (MQTT 5.0 2.2.2.2)");
      break;
    }
    seen |= mask;
    if (out.layout.count < WireLayout::max_recorded) {
      out.layout.ids[out.layout.count++] = static_cast<std::uint8_t>(id);
    }
    read_one(block, *info, context, out);
  }
  if (block.failed()) reader.fail(block.error().code, block.error().detail);
}

std::size_t properties_size(const Properties& p) noexcept {
  std::size_t size = int_size(p.payload_format_indicator) + int_size(p.message_expiry_interval) +
                     string_size(p.content_type) + string_size(p.response_topic) +
                     string_size(p.correlation_data);
  for (std::uint32_t id : p.subscription_identifiers)
    size += 1 + wire::varint_size(id);
  size += int_size(p.session_expiry_interval) + string_size(p.assigned_client_identifier) +
          int_size(p.server_keep_alive) + string_size(p.authentication_method) +
          string_size(p.authentication_data) + int_size(p.request_problem_information) +
          int_size(p.will_delay_interval) + int_size(p.request_response_information) +
          string_size(p.response_information) + string_size(p.server_reference) +
          string_size(p.reason_string) + int_size(p.receive_maximum) +
          int_size(p.topic_alias_maximum) + int_size(p.topic_alias) + int_size(p.maximum_qos) +
          int_size(p.retain_available);
  for (const UserProperty& user : p.user_properties) {
    size += 1 + 2 + user.name.size() + 2 + user.value.size();
  }
  size += int_size(p.maximum_packet_size) + int_size(p.wildcard_subscription_available) +
          int_size(p.subscription_identifier_available) + int_size(p.shared_subscription_available);
  return size;
}

namespace {

// Writes the single-valued property `id` if it is present.
void write_single(wire::Writer& w, const Properties& p, I id) noexcept {
  switch (id) {
    case I::payload_format_indicator:
      write_int(w, id, p.payload_format_indicator);
      break;
    case I::message_expiry_interval:
      write_int(w, id, p.message_expiry_interval);
      break;
    case I::content_type:
      write_string(w, id, p.content_type);
      break;
    case I::response_topic:
      write_string(w, id, p.response_topic);
      break;
    case I::correlation_data:
      write_string(w, id, p.correlation_data);
      break;
    case I::session_expiry_interval:
      write_int(w, id, p.session_expiry_interval);
      break;
    case I::assigned_client_identifier:
      write_string(w, id, p.assigned_client_identifier);
      break;
    case I::server_keep_alive:
      write_int(w, id, p.server_keep_alive);
      break;
    case I::authentication_method:
      write_string(w, id, p.authentication_method);
      break;
    case I::authentication_data:
      write_string(w, id, p.authentication_data);
      break;
    case I::request_problem_information:
      write_int(w, id, p.request_problem_information);
      break;
    case I::will_delay_interval:
      write_int(w, id, p.will_delay_interval);
      break;
    case I::request_response_information:
      write_int(w, id, p.request_response_information);
      break;
    case I::response_information:
      write_string(w, id, p.response_information);
      break;
    case I::server_reference:
      write_string(w, id, p.server_reference);
      break;
    case I::reason_string:
      write_string(w, id, p.reason_string);
      break;
    case I::receive_maximum:
      write_int(w, id, p.receive_maximum);
      break;
    case I::topic_alias_maximum:
      write_int(w, id, p.topic_alias_maximum);
      break;
    case I::topic_alias:
      write_int(w, id, p.topic_alias);
      break;
    case I::maximum_qos:
      write_int(w, id, p.maximum_qos);
      break;
    case I::retain_available:
      write_int(w, id, p.retain_available);
      break;
    case I::maximum_packet_size:
      write_int(w, id, p.maximum_packet_size);
      break;
    case I::wildcard_subscription_available:
      write_int(w, id, p.wildcard_subscription_available);
      break;
    case I::subscription_identifier_available:
      write_int(w, id, p.subscription_identifier_available);
      break;
    case I::shared_subscription_available:
      write_int(w, id, p.shared_subscription_available);
      break;
    case I::subscription_identifier:
    case I::user_property:
      break;  // repeatable: written by the caller
  }
}

// Writes properties in the recorded wire order first, then whatever is left in
// identifier order; repeatable ones are consumed in their stored order either way.
class OrderedWriter {
 public:
  OrderedWriter(wire::Writer& w, const Properties& p) : w_(w), p_(p) {}

  void write(I id) noexcept {
    if (id == I::user_property) {
      if (next_user_ < p_.user_properties.size()) {
        const UserProperty& user = p_.user_properties[next_user_++];
        w_.u8(static_cast<std::uint8_t>(id));
        w_.binary(user.name);
        w_.binary(user.value);
      }
    } else if (id == I::subscription_identifier) {
      if (next_subscription_id_ < p_.subscription_identifiers.size()) {
        w_.u8(static_cast<std::uint8_t>(id));
        w_.varint(p_.subscription_identifiers[next_subscription_id_++]);
      }
    } else {
      std::uint64_t bit = std::uint64_t{1} << static_cast<unsigned>(id);
      if ((done_ & bit) == 0) {
        done_ |= bit;
        write_single(w_, p_, id);
      }
    }
  }

  void write_rest() noexcept {
    for (unsigned id = 1; id < 0x2B; ++id) {
      if (property_info(static_cast<std::uint8_t>(id)) == nullptr) continue;
      auto property = static_cast<I>(id);
      if (property == I::user_property) {
        while (next_user_ < p_.user_properties.size())
          write(property);
      } else if (property == I::subscription_identifier) {
        while (next_subscription_id_ < p_.subscription_identifiers.size())
          write(property);
      } else {
        write(property);
      }
    }
  }

 private:
  wire::Writer& w_;
  const Properties& p_;
  std::uint64_t done_ = 0;
  std::size_t next_user_ = 0;
  std::size_t next_subscription_id_ = 0;
};

}  // namespace

void write_properties(wire::Writer& w, const Properties& p, std::size_t size) noexcept {
  w.varint(static_cast<std::uint32_t>(size));
  if (size == 0) return;  // the common case: nothing to walk
  OrderedWriter writer(w, p);
  for (std::uint8_t i = 0; i < p.layout.count; ++i)
    writer.write(static_cast<I>(p.layout.ids[i]));
  writer.write_rest();
}

}  // namespace cicada::codec::detail
