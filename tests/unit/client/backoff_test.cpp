#include <gtest/gtest.h>

#include <set>

#include <cicada/client/backoff.hpp>

namespace cicada::client {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DefaultsFollowAutopaho) {
  BackoffOptions options;
  EXPECT_EQ(options.min_delay, milliseconds(5000));
  EXPECT_EQ(options.max_delay, milliseconds(600000));
  EXPECT_EQ(options.initial_max_delay, milliseconds(10000));
  EXPECT_DOUBLE_EQ(options.factor, 1.5);
}

TEST(Backoff, CapGrowsByFactorUntilMax) {
  BackoffOptions options{milliseconds(1000), milliseconds(10000), milliseconds(2000), 2.0};
  EXPECT_EQ(backoff_cap(options, 1), milliseconds(2000));
  EXPECT_EQ(backoff_cap(options, 2), milliseconds(4000));
  EXPECT_EQ(backoff_cap(options, 3), milliseconds(8000));
  EXPECT_EQ(backoff_cap(options, 4), milliseconds(10000));
  EXPECT_EQ(backoff_cap(options, 1000), milliseconds(10000));
}

TEST(Backoff, DelayStaysWithinBoundsAndVaries) {
  BackoffOptions options{milliseconds(1000), milliseconds(10000), milliseconds(2000), 2.0};
  std::mt19937_64 rng(42);
  std::set<long> seen;
  for (std::uint32_t attempt = 1; attempt < 20; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      auto d = backoff_delay(options, attempt, rng);
      EXPECT_GE(d, options.min_delay);
      EXPECT_LE(d, backoff_cap(options, attempt));
      seen.insert(static_cast<long>(d.count()));
    }
  }
  EXPECT_GT(seen.size(), 10u);  // jitter: not one fixed value
}

TEST(Backoff, MinAboveCapGivesMin) {
  BackoffOptions options{milliseconds(3000), milliseconds(9000), milliseconds(1000), 1.5};
  std::mt19937_64 rng(1);
  EXPECT_EQ(backoff_delay(options, 1, rng), milliseconds(3000));
}

}  // namespace
}  // namespace cicada::client
