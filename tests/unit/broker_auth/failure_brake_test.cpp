// FailureBrake: bans by address after repeated failures, their end, and the bound on
// tracked addresses. Times are given, not waited for.
#include "broker/auth/failure_brake.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cicada::broker::auth {
namespace {

using namespace std::chrono_literals;
using Clock = FailureBrake::Clock;

FailureBrake brake(std::uint32_t limit, std::size_t max_addresses = 100) {
  return FailureBrake(FailureBrakeSettings{
      .limit = limit, .window = 60s, .ban = 300s, .max_addresses = max_addresses});
}

TEST(FailureBrake, OffByDefault) {
  FailureBrake off(FailureBrakeSettings{});
  const auto t = Clock::now();
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(off.failed("192.0.2.1", t));
  EXPECT_FALSE(off.banned("192.0.2.1", t));
  EXPECT_EQ(off.tracked(), 0u);
}

TEST(FailureBrake, LimitWithinTheWindowBansForTheBanTime) {
  FailureBrake b = brake(3);
  const auto t = Clock::now();
  EXPECT_FALSE(b.failed("192.0.2.1", t));
  EXPECT_FALSE(b.failed("192.0.2.1", t + 1s));
  EXPECT_FALSE(b.banned("192.0.2.1", t + 1s));
  EXPECT_TRUE(b.failed("192.0.2.1", t + 2s));  // the third: banned now
  EXPECT_TRUE(b.banned("192.0.2.1", t + 2s));
  EXPECT_FALSE(b.banned("192.0.2.2", t + 2s));  // others are not
  // Failures while banned do not extend the ban.
  EXPECT_FALSE(b.failed("192.0.2.1", t + 200s));
  EXPECT_TRUE(b.banned("192.0.2.1", t + 301s));
  EXPECT_FALSE(b.banned("192.0.2.1", t + 302s));
}

TEST(FailureBrake, FailuresSpreadBeyondTheWindowNeverBan) {
  FailureBrake b = brake(3);
  const auto t = Clock::now();
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(b.failed("192.0.2.1", t + i * 31s)) << i;  // two per window at most
  }
  EXPECT_FALSE(b.banned("192.0.2.1", t + 310s));
}

TEST(FailureBrake, TracksAtMostMaxAddressesAndReusesExpiredEntries) {
  FailureBrake b = brake(2, 4);
  const auto t = Clock::now();
  for (int i = 0; i < 10; ++i)
    b.failed("198.51.100." + std::to_string(i), t);
  EXPECT_EQ(b.tracked(), 4u);
  // An address the full table could not take is not banned (only delayed per connection).
  EXPECT_FALSE(b.failed("198.51.100.9", t));
  EXPECT_FALSE(b.banned("198.51.100.9", t));
  // Once the window has passed, the old entries make room.
  EXPECT_FALSE(b.failed("203.0.113.1", t + 61s));
  EXPECT_TRUE(b.failed("203.0.113.1", t + 62s));
  EXPECT_TRUE(b.banned("203.0.113.1", t + 62s));
  EXPECT_LE(b.tracked(), 4u);
}

}  // namespace
}  // namespace cicada::broker::auth
