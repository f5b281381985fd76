// Values the client library hands to and gets from the application: messages,
// subscription requests, results of each operation and the errors inside them.
// Results carry MQTT 5 reason codes (3.1.1 codes are translated by the codec) and the
// broker's Reason String, so an application can say exactly why something failed.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cicada/base/shared_buffer.hpp>
#include <cicada/codec/packets.hpp>
#include <cicada/codec/reason_code.hpp>
#include <cicada/codec/types.hpp>

namespace cicada::client {

using codec::ProtocolVersion;
using codec::QoS;
using codec::ReasonCode;

// Why an operation failed; `none` means it did not.
enum class ErrorKind : std::uint8_t {
  none,
  not_connected,     // QoS 0 publish while disconnected: it is never queued
  connection_lost,   // the connection dropped and the operation cannot be retried
  connect_failed,    // TCP connect, timeout or a refusing CONNACK (see reason)
  tls_failed,        // TLS handshake: certificate not trusted, wrong name, or refused
  rejected,          // the broker answered with a failure reason code
  queue_full,        // the bounded offline queue is full (ClientOptions::max_queued)
  packet_too_large,  // larger than the broker's Maximum Packet Size
  invalid_argument,  // bad topic, filter, QoS or URI
  protocol_error,    // the broker broke the protocol
  stopped,           // the client was stopped before the operation completed
  store_failed,      // the file store could not write the message (see the message)
  expired,           // its Message Expiry Interval passed while it waited to be sent
};

std::string_view to_string(ErrorKind kind) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::none;
  ReasonCode reason = ReasonCode::success;  // the broker's, when it sent one
  std::string message;                      // includes the broker's Reason String

  explicit operator bool() const noexcept { return kind != ErrorKind::none; }
  // "rejected: Not authorized (0x87): <reason string>"
  std::string describe() const;
};

// MQTT 5 PUBLISH properties an application usually sets or reads.
struct MessageProperties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<std::pair<std::string, std::string>> user_properties;
  std::vector<std::uint32_t> subscription_identifiers;  // inbound only
};

// An outgoing message. Owns its bytes: it may wait in the offline queue.
struct Message {
  std::string topic;
  std::string payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  MessageProperties properties;
};

// A received message. The payload is a view into the receive buffer, kept alive by
// `owner`, so delivery copies no payload bytes (STYLE.md 5).
struct ReceivedMessage {
  std::string topic;
  std::string_view payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  MessageProperties properties;
  SharedBuffer owner;
  // For Client::ack() when ClientOptions::manual_ack is on.
  std::uint16_t packet_id = 0;
  std::uint64_t connection = 0;
};

struct SubscribeRequest {
  std::string filter;
  QoS qos = QoS::at_most_once;
  bool no_local = false;             // MQTT 5
  bool retain_as_published = false;  // MQTT 5
  codec::RetainHandling retain_handling = codec::RetainHandling::send_on_subscribe;
};

// MQTT 5 properties of one SUBSCRIBE (section 3.8.2.1), shared by its filters. The
// Subscription Identifier comes back in MessageProperties::subscription_identifiers of
// every message those filters match [MQTT-3.3.4-3].
struct SubscribeProperties {
  std::optional<std::uint32_t> subscription_identifier;  // 1..268,435,455
  std::vector<std::pair<std::string, std::string>> user_properties;
  bool operator==(const SubscribeProperties&) const = default;
};

// MQTT 5 properties of one UNSUBSCRIBE (section 3.10.2.1).
struct UnsubscribeProperties {
  std::vector<std::pair<std::string, std::string>> user_properties;
};

// MQTT 5 properties of the DISCONNECT the client sends (section 3.14.2.2). A Session
// Expiry Interval other than 0 after a CONNECT that asked for 0 is a Protocol Error
// [MQTT-3.14.2-2]: the broker refuses it.
struct DisconnectProperties {
  std::optional<std::uint32_t> session_expiry_interval;
  std::optional<std::string> reason_string;
  std::vector<std::pair<std::string, std::string>> user_properties;
};

struct PublishResult {
  Error error;
  // PUBACK / PUBREC reason (QoS 1 / 2); success for QoS 0 once written.
  ReasonCode reason = ReasonCode::success;
};

struct SubscribeResult {
  Error error;
  std::vector<ReasonCode> reason_codes;  // one per filter, in order (granted QoS or failure)
};

struct UnsubscribeResult {
  Error error;
  std::vector<ReasonCode> reason_codes;  // MQTT 5 only; empty for 3.1.1
};

// What the broker said in its CONNACK, with defaults filled in for absent properties.
struct ConnackInfo {
  std::string uri;  // the server this connection went to
  ProtocolVersion version = ProtocolVersion::v5;
  bool session_present = false;
  ReasonCode reason = ReasonCode::success;
  std::string assigned_client_id;
  std::string reason_string;
  std::uint16_t receive_maximum = 65535;
  std::uint32_t maximum_packet_size = 0;  // 0: no limit
  QoS maximum_qos = QoS::exactly_once;
  bool retain_available = true;
  std::uint16_t topic_alias_maximum = 0;
  bool subscription_identifiers_available = true;
  std::optional<std::uint16_t> server_keep_alive;
  std::string response_information;  // with request_response_information
  std::string server_reference;      // another server to use (MQTT 5.0 section 4.11)
  std::string authentication_data;   // enhanced authentication: the broker's last word
};

struct ConnectResult {
  Error error;
  ConnackInfo connack;
};

}  // namespace cicada::client
