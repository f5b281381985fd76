// TokenBucket: burst, refill at the rate, debt from a cost above the burst, no saving
// up beyond the burst, and ready_at() naming the first instant it may go on. Time is
// made up: no clock is read, nothing sleeps.
#include "broker/core/token_bucket.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace cicada::broker {
namespace {

using namespace std::chrono_literals;

const TimePoint t0 = TimePoint{} + 1000s;

TEST(TokenBucket, StartsFullAndAllowsTheBurst) {
  TokenBucket bucket(10, 5);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(bucket.ready(t0)) << "take " << i;
    bucket.take(1, t0);
  }
  EXPECT_FALSE(bucket.ready(t0));
}

TEST(TokenBucket, RefillsAtTheRate) {
  TokenBucket bucket(10, 1);  // one token per 100 ms
  bucket.take(1, t0);
  EXPECT_FALSE(bucket.ready(t0));
  EXPECT_FALSE(bucket.ready(t0 + 99ms));
  EXPECT_TRUE(bucket.ready(t0 + 100ms));
  EXPECT_EQ(bucket.ready_at(), t0 + 100ms);
}

TEST(TokenBucket, SteadyStateRateIsTheConfiguredOne) {
  // A reader that takes whenever ready() and waits for ready_at() otherwise gets
  // `rate` tokens per second plus the burst, whatever the burst.
  TokenBucket bucket(50, 20);
  TimePoint now = t0;
  int taken = 0;
  while (now < t0 + 10s) {
    if (bucket.ready(now)) {
      bucket.take(1, now);
      ++taken;
    } else {
      now = bucket.ready_at();
    }
  }
  EXPECT_GE(taken, 50 * 10 + 20 - 1);
  EXPECT_LE(taken, 50 * 10 + 20 + 1);
}

TEST(TokenBucket, ACostAboveTheBurstPassesAndIsPaidBack) {
  // A 10 kB packet under a 1 kB/s limit: read once, then nothing for ~10 s.
  TokenBucket bucket(1000, 1000);
  ASSERT_TRUE(bucket.ready(t0));
  bucket.take(10'000, t0);
  // 10 s of tokens taken, of which a burst less one token may stay owed.
  EXPECT_FALSE(bucket.ready(t0 + 8s));
  EXPECT_FALSE(bucket.ready(t0 + 9000ms));
  EXPECT_TRUE(bucket.ready(t0 + 9001ms));
}

TEST(TokenBucket, QuietTimeIsNotSavedBeyondTheBurst) {
  TokenBucket bucket(10, 3);
  const TimePoint later = t0 + 1h;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(bucket.ready(later));
    bucket.take(1, later);
  }
  EXPECT_FALSE(bucket.ready(later));
}

TEST(TokenBucket, PartialRefillLetsOneMoreThrough) {
  TokenBucket bucket(4, 2);  // 250 ms per token
  bucket.take(2, t0);
  EXPECT_FALSE(bucket.ready(t0 + 249ms));
  EXPECT_TRUE(bucket.ready(t0 + 251ms));
  bucket.take(1, t0 + 251ms);
  EXPECT_FALSE(bucket.ready(t0 + 251ms));
  EXPECT_TRUE(bucket.ready(t0 + 501ms));
}

TEST(TokenBucket, ZeroRateAndBurstAreTreatedAsOne) {
  TokenBucket bucket(0, 0);
  ASSERT_TRUE(bucket.ready(t0));
  bucket.take(1, t0);
  EXPECT_FALSE(bucket.ready(t0 + 999ms));
  EXPECT_TRUE(bucket.ready(t0 + 1s));
}

TEST(TokenBucket, HugeCostsAndRatesDoNotOverflow) {
  TokenBucket fast(std::uint64_t{1} << 40, std::uint64_t{1} << 40);
  fast.take(std::uint64_t{1} << 40, t0);  // exactly the burst: 1 s of tokens
  EXPECT_FALSE(fast.ready(t0));
  EXPECT_TRUE(fast.ready(t0 + 1s));

  TokenBucket slow(1, 1);
  slow.take(~std::uint64_t{0}, t0);  // capped debt, still in the future
  EXPECT_FALSE(slow.ready(t0 + 24h * 30));
  EXPECT_GT(slow.ready_at(), t0 + 24h * 30);
}

}  // namespace
}  // namespace cicada::broker
