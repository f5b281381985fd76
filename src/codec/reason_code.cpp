#include <algorithm>
#include <array>
#include <initializer_list>

#include <cicada/codec/reason_code.hpp>

namespace cicada::codec {
namespace {

using enum ReasonCode;

// The reason codes each packet may carry (MQTT 5.0 sections 3.2.2.2, 3.4.2.1, 3.5.2.1,
// 3.6.2.1, 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1, 3.15.2.1).
constexpr ReasonCode connack_codes[] = {success,
                                        unspecified_error,
                                        malformed_packet,
                                        protocol_error,
                                        implementation_specific_error,
                                        unsupported_protocol_version,
                                        client_identifier_not_valid,
                                        bad_user_name_or_password,
                                        not_authorized,
                                        server_unavailable,
                                        server_busy,
                                        banned,
                                        bad_authentication_method,
                                        topic_name_invalid,
                                        packet_too_large,
                                        quota_exceeded,
                                        payload_format_invalid,
                                        retain_not_supported,
                                        qos_not_supported,
                                        use_another_server,
                                        server_moved,
                                        connection_rate_exceeded};
constexpr ReasonCode puback_codes[] = {success,
                                       no_matching_subscribers,
                                       unspecified_error,
                                       implementation_specific_error,
                                       not_authorized,
                                       topic_name_invalid,
                                       packet_identifier_in_use,
                                       quota_exceeded,
                                       payload_format_invalid};
constexpr ReasonCode pubrel_codes[] = {success, packet_identifier_not_found};
constexpr ReasonCode suback_codes[] = {success,
                                       granted_qos_1,
                                       granted_qos_2,
                                       unspecified_error,
                                       implementation_specific_error,
                                       not_authorized,
                                       topic_filter_invalid,
                                       packet_identifier_in_use,
                                       quota_exceeded,
                                       shared_subscriptions_not_supported,
                                       subscription_identifiers_not_supported,
                                       wildcard_subscriptions_not_supported};
constexpr ReasonCode unsuback_codes[] = {
    success,        no_subscription_existed, unspecified_error,       implementation_specific_error,
    not_authorized, topic_filter_invalid,    packet_identifier_in_use};
constexpr ReasonCode disconnect_codes[] = {success,
                                           disconnect_with_will_message,
                                           unspecified_error,
                                           malformed_packet,
                                           protocol_error,
                                           implementation_specific_error,
                                           not_authorized,
                                           server_busy,
                                           server_shutting_down,
                                           keep_alive_timeout,
                                           session_taken_over,
                                           topic_filter_invalid,
                                           topic_name_invalid,
                                           receive_maximum_exceeded,
                                           topic_alias_invalid,
                                           packet_too_large,
                                           message_rate_too_high,
                                           quota_exceeded,
                                           administrative_action,
                                           payload_format_invalid,
                                           retain_not_supported,
                                           qos_not_supported,
                                           use_another_server,
                                           server_moved,
                                           shared_subscriptions_not_supported,
                                           connection_rate_exceeded,
                                           maximum_connect_time,
                                           subscription_identifiers_not_supported,
                                           wildcard_subscriptions_not_supported};
constexpr ReasonCode auth_codes[] = {success, continue_authentication, re_authenticate};

template <std::size_t N>
bool contains(const ReasonCode (&codes)[N], ReasonCode code) {
  return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
}

}  // namespace

bool is_valid_for(ReasonCode code, PacketType packet) noexcept {
  switch (packet) {
    case PacketType::connack:
      return contains(connack_codes, code);
    case PacketType::puback:
    case PacketType::pubrec:
      return contains(puback_codes, code);
    case PacketType::pubrel:
    case PacketType::pubcomp:
      return contains(pubrel_codes, code);
    case PacketType::suback:
      return contains(suback_codes, code);
    case PacketType::unsuback:
      return contains(unsuback_codes, code);
    case PacketType::disconnect:
      return contains(disconnect_codes, code);
    case PacketType::auth:
      return contains(auth_codes, code);
    default:
      return false;
  }
}

std::string_view to_string(ReasonCode code, PacketType packet) noexcept {
  switch (code) {
    case success:
      if (packet == PacketType::disconnect) return "Normal disconnection";
      if (packet == PacketType::suback) return "Granted QoS 0";
      return "Success";
    case granted_qos_1:
      return "Granted QoS 1";
    case granted_qos_2:
      return "Granted QoS 2";
    case disconnect_with_will_message:
      return "Disconnect with Will Message";
    case no_matching_subscribers:
      return "No matching subscribers";
    case no_subscription_existed:
      return "No subscription existed";
    case continue_authentication:
      return "Continue authentication";
    case re_authenticate:
      return "Re-authenticate";
    case unspecified_error:
      return "Unspecified error";
    case malformed_packet:
      return "Malformed Packet";
    case protocol_error:
      return "Protocol Error";
    case implementation_specific_error:
      return "Implementation specific error";
    case unsupported_protocol_version:
      return "Unsupported Protocol Version";
    case client_identifier_not_valid:
      return "Client Identifier not valid";
    case bad_user_name_or_password:
      return "Bad User Name or Password";
    case not_authorized:
      return "Not authorized";
    case server_unavailable:
      return "Server unavailable";
    case server_busy:
      return "Server busy";
    case banned:
      return "Banned";
    case server_shutting_down:
      return "Server shutting down";
    case bad_authentication_method:
      return "Bad authentication method";
    case keep_alive_timeout:
      return "Keep Alive timeout";
    case session_taken_over:
      return "Session taken over";
    case topic_filter_invalid:
      return "Topic Filter invalid";
    case topic_name_invalid:
      return "Topic Name invalid";
    case packet_identifier_in_use:
      return "Packet Identifier in use";
    case packet_identifier_not_found:
      return "Packet Identifier not found";
    case receive_maximum_exceeded:
      return "Receive Maximum exceeded";
    case topic_alias_invalid:
      return "Topic Alias invalid";
    case packet_too_large:
      return "Packet too large";
    case message_rate_too_high:
      return "Message rate too high";
    case quota_exceeded:
      return "Quota exceeded";
    case administrative_action:
      return "Administrative action";
    case payload_format_invalid:
      return "Payload format invalid";
    case retain_not_supported:
      return "Retain not supported";
    case qos_not_supported:
      return "QoS not supported";
    case use_another_server:
      return "Use another server";
    case server_moved:
      return "Server moved";
    case shared_subscriptions_not_supported:
      return "Shared Subscriptions not supported";
    case connection_rate_exceeded:
      return "Connection rate exceeded";
    case maximum_connect_time:
      return "Maximum connect time";
    case subscription_identifiers_not_supported:
      return "Subscription Identifiers not supported";
    case wildcard_subscriptions_not_supported:
      return "Wildcard Subscriptions not supported";
  }
  return "Unknown reason code";
}

ConnectReturnCode to_connect_return_code(ReasonCode code) noexcept {
  switch (code) {
    case success:
      return ConnectReturnCode::accepted;
    case unsupported_protocol_version:
      return ConnectReturnCode::unacceptable_protocol_version;
    case client_identifier_not_valid:
      return ConnectReturnCode::identifier_rejected;
    case bad_user_name_or_password:
      return ConnectReturnCode::bad_user_name_or_password;
    case not_authorized:
    case banned:
    case bad_authentication_method:
      return ConnectReturnCode::not_authorized;
    default:
      return ConnectReturnCode::server_unavailable;
  }
}

std::optional<ReasonCode> from_connect_return_code(std::uint8_t code) noexcept {
  switch (code) {
    case 0:
      return success;
    case 1:
      return unsupported_protocol_version;
    case 2:
      return client_identifier_not_valid;
    case 3:
      return server_unavailable;
    case 4:
      return bad_user_name_or_password;
    case 5:
      return not_authorized;
    default:
      return std::nullopt;
  }
}

std::string_view to_string(PacketType type) noexcept {
  switch (type) {
    case PacketType::connect:
      return "CONNECT";
    case PacketType::connack:
      return "CONNACK";
    case PacketType::publish:
      return "PUBLISH";
    case PacketType::puback:
      return "PUBACK";
    case PacketType::pubrec:
      return "PUBREC";
    case PacketType::pubrel:
      return "PUBREL";
    case PacketType::pubcomp:
      return "PUBCOMP";
    case PacketType::subscribe:
      return "SUBSCRIBE";
    case PacketType::suback:
      return "SUBACK";
    case PacketType::unsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::unsuback:
      return "UNSUBACK";
    case PacketType::pingreq:
      return "PINGREQ";
    case PacketType::pingresp:
      return "PINGRESP";
    case PacketType::disconnect:
      return "DISCONNECT";
    case PacketType::auth:
      return "AUTH";
  }
  return "UNKNOWN";
}

std::string_view to_string(ProtocolVersion version) noexcept {
  switch (version) {
    case ProtocolVersion::v3_1:
      return "3.1";
    case ProtocolVersion::v3_1_1:
      return "3.1.1";
    case ProtocolVersion::v5:
      return "5.0";
  }
  return "unknown";
}

}  // namespace cicada::codec
