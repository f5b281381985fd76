// Basic MQTT vocabulary shared by every packet: protocol versions, packet types, QoS.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string_view>

namespace cicada::codec {

// The protocol level byte of CONNECT: 3 = MQTT 3.1 ("MQIsdp"), 4 = 3.1.1, 5 = 5.0.
enum class ProtocolVersion : std::uint8_t { v3_1 = 3, v3_1_1 = 4, v5 = 5 };

// The control packet type, the high nibble of the first byte [MQTT-2.1.2].
enum class PacketType : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15,  // MQTT 5 only
};

enum class QoS : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

std::string_view to_string(PacketType type) noexcept;
std::string_view to_string(ProtocolVersion version) noexcept;

// 65,535: the longest UTF-8 string or binary field [MQTT-1.5.4], [MQTT-1.5.6].
inline constexpr std::size_t max_string_size = 65535;
// 268,435,455: the largest Variable Byte Integer [MQTT-1.5.5].
inline constexpr std::uint32_t max_varint = 268'435'455;
// A fixed header is at most 1 type byte + 4 length bytes.
inline constexpr std::size_t max_fixed_header_size = 5;

}  // namespace cicada::codec
