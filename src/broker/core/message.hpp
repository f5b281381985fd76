// Message: one application message as the broker routes it, decoded once from the
// publisher's PUBLISH and shared, immutable, by every subscriber that receives it
// (STYLE.md 5). Its views point into `owner`, the publisher's receive buffer, or into
// `storage` when the broker had to build the bytes itself (a topic from an alias, a
// compacted retained copy).
// Thread-safety: immutable after construction; shared across workers by MessagePtr.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <cicada/base/shared_buffer.hpp>
#include <cicada/codec/packets.hpp>

namespace cicada::broker {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct Message {
  SharedBuffer owner;
  std::string storage;
  std::string_view topic;
  std::string_view payload;
  codec::QoS qos = codec::QoS::at_most_once;
  bool retain = false;
  // What travels to subscribers: no Topic Alias and no Subscription Identifiers, which
  // are per hop and per subscriber [MQTT-3.3.2-7], [MQTT-3.3.4-3].
  codec::Properties properties;
  // Message Expiry Interval counts down while the message waits [MQTT-3.3.2-6].
  std::optional<TimePoint> expires_at;
  std::uint64_t publisher = 0;  // SessionHandle id of the sender, for No Local
  // Known to carry no properties (its PUBLISH had none): a subscriber's copy of the
  // packet starts from empty properties instead of copying these. False is always
  // correct, only slower.
  bool no_properties = false;
};
using MessagePtr = std::shared_ptr<const Message>;

// A copy that owns exactly its bytes: used for messages kept for long (retained,
// queued offline) so they do not pin a whole receive buffer.
MessagePtr compact(const Message& message);

// Remaining Message Expiry Interval in seconds, or nullopt when the message does not
// expire; 0 means it has expired.
std::optional<std::uint32_t> remaining_expiry(const Message& message, TimePoint now);

}  // namespace cicada::broker
