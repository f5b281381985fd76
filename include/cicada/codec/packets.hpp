// The MQTT control packets of 3.1, 3.1.1 and 5.0 as plain structs, and Packet, the
// variant of all of them. One struct serves every version; fields a version lacks
// (properties before 5.0, reason codes in 3.1.1 acknowledgements) are left at their
// defaults and ignored by the encoder for that version.
// Strings and binary fields are views: into the receive buffer for a decoded packet
// (kept alive by ParsedPacket::owner), or into the caller's storage when encoding.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include <cicada/codec/properties.hpp>
#include <cicada/codec/reason_code.hpp>
#include <cicada/codec/types.hpp>

namespace cicada::codec {

struct Will {
  std::string_view topic;
  std::string_view payload;  // binary
  QoS qos = QoS::at_most_once;
  bool retain = false;
  Properties properties;  // MQTT 5 Will Properties
  bool operator==(const Will&) const = default;
};

struct Connect {
  ProtocolVersion version = ProtocolVersion::v3_1_1;
  // Clean Session in 3.1 / 3.1.1, Clean Start in 5.0.
  bool clean_start = true;
  std::uint16_t keep_alive = 60;
  std::string_view client_id;
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;  // binary
  Properties properties;
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  // MQTT 5 reason code; 3.1.1 return codes are translated (see reason_code.hpp).
  ReasonCode reason_code = ReasonCode::success;
  Properties properties;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  bool dup = false;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  // May be empty in MQTT 5 when a Topic Alias property stands for it [MQTT-3.3.2-8].
  std::string_view topic;
  std::uint16_t packet_id = 0;  // only for QoS 1 and 2
  Properties properties;
  std::string_view payload;  // binary
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape (MQTT 5.0 sections 3.4-3.7).
template <PacketType Type>
struct Ack {
  static constexpr PacketType type = Type;
  std::uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::success;  // MQTT 5 only
  Properties properties;
  bool operator==(const Ack&) const = default;
};
using Puback = Ack<PacketType::puback>;
using Pubrec = Ack<PacketType::pubrec>;
using Pubrel = Ack<PacketType::pubrel>;
using Pubcomp = Ack<PacketType::pubcomp>;

// Retain Handling of a subscription (MQTT 5.0 section 3.8.3.1).
enum class RetainHandling : std::uint8_t {
  send_on_subscribe = 0,
  send_if_new_subscription = 1,
  do_not_send = 2,
};

struct SubscribeOptions {
  QoS max_qos = QoS::at_most_once;
  bool no_local = false;                                               // MQTT 5 only
  bool retain_as_published = false;                                    // MQTT 5 only
  RetainHandling retain_handling = RetainHandling::send_on_subscribe;  // MQTT 5 only
  bool operator==(const SubscribeOptions&) const = default;
};

struct Subscription {
  std::string_view filter;
  SubscribeOptions options;
  bool operator==(const Subscription&) const = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<Subscription> subscriptions;
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  std::uint16_t packet_id = 0;
  Properties properties;
  // One per subscription, in order. 3.1.1 allows 0x00-0x02 and 0x80; 3.1 only 0x00-0x02.
  std::vector<ReasonCode> reason_codes;
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string_view> filters;
  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reason_codes;  // MQTT 5 only: one per filter
  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  ReasonCode reason_code = ReasonCode::success;  // MQTT 5 only
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};

// MQTT 5 only: enhanced authentication exchange.
struct Auth {
  ReasonCode reason_code = ReasonCode::success;
  Properties properties;
  bool operator==(const Auth&) const = default;
};

// The alternatives are in packet-type order: index() + 1 is the packet type.
using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe,
                            Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

inline PacketType type_of(const Packet& packet) noexcept {
  return static_cast<PacketType>(packet.index() + 1);
}

}  // namespace cicada::codec
