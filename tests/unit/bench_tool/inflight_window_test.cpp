// The QoS 1/2 in-flight window: its limit, identifier order and wrap-around,
// acknowledgements out of order, and unknown ones.
#include "inflight_window.hpp"

#include <gtest/gtest.h>

namespace cicada::bench {
namespace {

using Stage = InflightWindow::Stage;

TEST(InflightWindow, StopsAtItsLimit) {
  InflightWindow w(3);
  EXPECT_EQ(*w.acquire(Stage::await_puback, 10), 1);
  EXPECT_EQ(*w.acquire(Stage::await_puback, 11), 2);
  EXPECT_EQ(*w.acquire(Stage::await_puback, 12), 3);
  EXPECT_FALSE(w.can_acquire());
  EXPECT_FALSE(w.acquire(Stage::await_puback, 13));
  EXPECT_EQ(w.complete(2), 11u);
  EXPECT_TRUE(w.can_acquire());
  EXPECT_EQ(*w.acquire(Stage::await_puback, 14), 4);
  EXPECT_EQ(w.size(), 3u);
}

TEST(InflightWindow, UnknownOrRepeatedAcknowledgementsAreRefused) {
  InflightWindow w(4);
  const auto id = *w.acquire(Stage::await_puback, 0);
  EXPECT_FALSE(w.complete(static_cast<std::uint16_t>(id + 1)));
  EXPECT_TRUE(w.complete(id));
  EXPECT_FALSE(w.complete(id));
  EXPECT_EQ(w.stage_of(id), Stage::free);
  EXPECT_EQ(w.size(), 0u);
}

TEST(InflightWindow, IdentifiersWrapAroundSkippingZero) {
  InflightWindow w(1);
  for (int i = 1; i <= 65535; ++i) {
    auto id = w.acquire(Stage::await_puback, 0);
    ASSERT_TRUE(id);
    ASSERT_EQ(*id, i);
    ASSERT_TRUE(w.complete(*id));
  }
  EXPECT_EQ(*w.acquire(Stage::await_puback, 0), 1);  // [MQTT-2.2.1-3] never 0
}

TEST(InflightWindow, QosTwoMovesThroughItsStages) {
  InflightWindow w(2);
  const auto id = *w.acquire(Stage::await_pubrec, 5);
  EXPECT_EQ(w.stage_of(id), Stage::await_pubrec);
  w.advance(id, Stage::await_pubcomp);
  EXPECT_EQ(w.stage_of(id), Stage::await_pubcomp);
  EXPECT_EQ(w.complete(id), 5u);
}

TEST(InflightWindow, AnOldUnacknowledgedPacketStallsItsSlot) {
  InflightWindow w(2);                                    // 4 slots
  const auto first = *w.acquire(Stage::await_puback, 0);  // id 1, slot 1
  for (int i = 0; i < 2; ++i)
    w.complete(*w.acquire(Stage::await_puback, 0));  // ids 2, 3
  w.complete(*w.acquire(Stage::await_puback, 0));    // id 4, slot 0
  // Id 5 would take slot 1, still held by id 1.
  EXPECT_FALSE(w.can_acquire());
  w.complete(first);
  EXPECT_EQ(*w.acquire(Stage::await_puback, 0), 5);
}

TEST(InflightWindow, LimitFollowsTheBrokersReceiveMaximum) {
  InflightWindow w(100);
  w.set_limit(2);
  EXPECT_EQ(w.limit(), 2);
  w.acquire(Stage::await_puback, 0);
  w.acquire(Stage::await_puback, 0);
  EXPECT_FALSE(w.can_acquire());
}

}  // namespace
}  // namespace cicada::bench
