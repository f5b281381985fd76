// Message: compact() copies a message into one buffer of its own, and remaining_expiry()
// counts down the Message Expiry Interval [MQTT-3.3.2-6].
#include "broker/core/message.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/base/shared_buffer.hpp>

#include "unit/broker/test_support.hpp"

namespace cicada::broker {
namespace {

using namespace std::chrono_literals;
using testing_support::make_message;
using testing_support::points_into;
using testing_support::QoS;

constexpr TimePoint t0{};

// A message as a v5 PUBLISH leaves it: every view points into one receive buffer.
std::shared_ptr<Message> full_message() {
  const std::string bytes = "a/topicpayload!text/plainreply/tocorrk1v1k2v2";
  auto message = std::make_shared<Message>();
  message->owner = SharedBuffer::copy_of(bytes);
  const auto at = [&](std::size_t offset, std::size_t size) {
    return message->owner.view(offset, size);
  };
  message->topic = at(0, 7);
  message->payload = at(7, 8);
  message->qos = QoS::exactly_once;
  message->retain = true;
  message->publisher = 42;
  message->expires_at = t0 + 30s;
  codec::Properties& p = message->properties;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 30;
  p.content_type = at(15, 10);
  p.response_topic = at(25, 8);
  p.correlation_data = at(33, 4);
  p.user_properties = {{at(37, 2), at(39, 2)}, {at(41, 2), at(43, 2)}};
  return message;
}

TEST(Compact, CopiesEveryField) {
  const auto original = full_message();
  const MessagePtr copy = compact(*original);
  EXPECT_EQ(copy->topic, "a/topic");
  EXPECT_EQ(copy->payload, "payload!");
  EXPECT_EQ(copy->qos, QoS::exactly_once);
  EXPECT_TRUE(copy->retain);
  EXPECT_EQ(copy->publisher, 42u);
  EXPECT_EQ(copy->expires_at, t0 + 30s);
  const codec::Properties& p = copy->properties;
  EXPECT_EQ(p.payload_format_indicator, 1);
  EXPECT_EQ(p.message_expiry_interval, 30u);
  EXPECT_EQ(p.content_type, "text/plain");
  EXPECT_EQ(p.response_topic, "reply/to");
  EXPECT_EQ(p.correlation_data, "corr");
  EXPECT_EQ(p.user_properties, (std::vector<codec::UserProperty>{{"k1", "v1"}, {"k2", "v2"}}));
  EXPECT_TRUE(p == original->properties);
}

TEST(Compact, OwnsExactlyItsBytesInOneBuffer) {
  const auto original = full_message();
  const MessagePtr copy = compact(*original);
  EXPECT_EQ(copy->owner.capacity(), 45u) << "topic, payload and property bytes, nothing else";
  EXPECT_EQ(original->owner.use_count(), 1u) << "the copy does not pin the receive buffer";
  const codec::Properties& p = copy->properties;
  const std::vector<std::string_view> views = {
      copy->topic,
      copy->payload,
      *p.content_type,
      *p.response_topic,
      *p.correlation_data,
      p.user_properties[0].name,
      p.user_properties[0].value,
      p.user_properties[1].name,
      p.user_properties[1].value,
  };
  for (std::string_view view : views) {
    EXPECT_TRUE(points_into(view, copy->owner)) << view;
    EXPECT_FALSE(points_into(view, original->owner)) << view;
  }
}

TEST(Compact, OutlivesTheOriginal) {
  auto original = full_message();
  const MessagePtr copy = compact(*original);
  original.reset();  // frees the receive buffer; AddressSanitizer checks the reads below
  EXPECT_EQ(copy->topic, "a/topic");
  EXPECT_EQ(copy->payload, "payload!");
  EXPECT_EQ(copy->properties.user_properties[1].value, "v2");
}

TEST(Compact, CopiesATopicHeldInStorage) {
  // A topic that came from a Topic Alias lives in `storage`, not in the receive buffer.
  auto original = make_message("", "data");
  original->storage = "aliased/topic/name/longer/than/small/string";
  original->topic = original->storage;
  const MessagePtr copy = compact(*original);
  EXPECT_EQ(copy->topic, "aliased/topic/name/longer/than/small/string");
  EXPECT_TRUE(points_into(copy->topic, copy->owner));
  EXPECT_TRUE(copy->storage.empty());
}

TEST(Compact, KeepsAbsentAndEmptyFieldsApart) {
  auto original = make_message("t", "");
  original->properties.content_type = std::string_view{};  // present, zero length
  const MessagePtr copy = compact(*original);
  EXPECT_EQ(copy->topic, "t");
  EXPECT_TRUE(copy->payload.empty());
  EXPECT_TRUE(copy->properties.content_type.has_value());
  EXPECT_TRUE(copy->properties.content_type->empty());
  EXPECT_FALSE(copy->properties.response_topic.has_value());
  EXPECT_FALSE(copy->properties.correlation_data.has_value());
  EXPECT_FALSE(copy->properties.message_expiry_interval.has_value());
  EXPECT_FALSE(copy->expires_at.has_value());
  EXPECT_TRUE(copy->properties.user_properties.empty());
}

struct RemainingCase {
  std::optional<std::chrono::nanoseconds> expires_in;  // nullopt: no expiry
  std::optional<std::uint32_t> remaining;
};

void PrintTo(const RemainingCase& c, std::ostream* os) {
  if (c.expires_in) {
    *os << "expires in " << c.expires_in->count() << " ns";
  } else {
    *os << "no expiry";
  }
}

class RemainingExpiry : public ::testing::TestWithParam<RemainingCase> {};

TEST_P(RemainingExpiry, IsWholeSecondsRoundedUpOrZero) {
  const RemainingCase& c = GetParam();
  const TimePoint now = t0 + 100s;
  Message message;
  if (c.expires_in) message.expires_at = now + *c.expires_in;
  EXPECT_EQ(remaining_expiry(message, now), c.remaining);
}

INSTANTIATE_TEST_SUITE_P(Message, RemainingExpiry,
                         ::testing::Values(RemainingCase{std::nullopt, std::nullopt},
                                           RemainingCase{10s, 10}, RemainingCase{9500ms, 10},
                                           RemainingCase{1ns, 1},
                                           RemainingCase{0ns, 0},  // expired exactly now
                                           RemainingCase{-5s, 0},  // expired earlier
                                           RemainingCase{0xFFFFFFFFs, 0xFFFFFFFFu}));

}  // namespace
}  // namespace cicada::broker
