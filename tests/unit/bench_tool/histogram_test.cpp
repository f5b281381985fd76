// The log-linear histogram: bucket layout, the relative error bound, percentiles
// against exact ones, merging.
#include "histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace cicada::bench {
namespace {

// The exact percentile with the histogram's definition: the value of rank ceil(p% n).
std::uint64_t exact_percentile(std::vector<std::uint64_t> sorted, double percent) {
  std::sort(sorted.begin(), sorted.end());
  auto rank =
      static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h(7);
  for (std::uint64_t v = 0; v < 256; ++v) {
    EXPECT_EQ(h.bucket_lowest(h.bucket_index(v)), v);
    EXPECT_EQ(h.bucket_highest(h.bucket_index(v)), v);
  }
}

TEST(Histogram, BucketsTileTheWholeRangeWithoutGaps) {
  for (unsigned bits : {1u, 3u, 7u, 10u}) {
    Histogram h(bits);
    EXPECT_EQ(h.bucket_count(), std::size_t{65 - bits} << bits);
    for (std::size_t i = 0; i + 1 < h.bucket_count(); ++i) {
      ASSERT_EQ(h.bucket_highest(i) + 1, h.bucket_lowest(i + 1)) << "bits " << bits << " i " << i;
      ASSERT_EQ(h.bucket_index(h.bucket_lowest(i)), i);
      ASSERT_EQ(h.bucket_index(h.bucket_highest(i)), i);
    }
    EXPECT_EQ(h.bucket_index(UINT64_MAX), h.bucket_count() - 1);
    EXPECT_EQ(h.bucket_highest(h.bucket_count() - 1), UINT64_MAX);
  }
}

TEST(Histogram, EveryValueIsReportedWithinTheRelativeErrorBound) {
  std::mt19937_64 random(42);
  for (unsigned bits : {2u, 5u, 7u, 12u}) {
    Histogram h(bits);
    const double bound = std::ldexp(1.0, -static_cast<int>(bits));
    EXPECT_DOUBLE_EQ(h.relative_error(), bound);
    for (int i = 0; i < 20000; ++i) {
      // Log-uniform over the whole 64-bit range.
      const std::uint64_t v = random() >> (random() % 64);
      const std::uint64_t high = h.bucket_highest(h.bucket_index(v));
      ASSERT_GE(high, v);
      ASSERT_LE(static_cast<double>(high - v), bound * static_cast<double>(v)) << v;
    }
  }
}

TEST(Histogram, PercentilesAgreeWithExactOnesWithinTheBound) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(std::log(200'000.0), 1.0);  // ~200 us
  std::vector<std::uint64_t> values;
  Histogram h(7);
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<std::uint64_t>(latency(random));
    values.push_back(v);
    h.record(v);
  }
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const std::uint64_t exact = exact_percentile(values, p);
    const std::uint64_t reported = h.percentile(p);
    EXPECT_GE(reported, exact) << p;
    EXPECT_LE(static_cast<double>(reported - exact),
              h.relative_error() * static_cast<double>(exact))
        << p;
  }
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
  EXPECT_EQ(h.percentile(100), h.max());
  EXPECT_EQ(h.percentile(0), h.min());
  EXPECT_EQ(h.count(), values.size());
}

TEST(Histogram, PercentileNeverExceedsTheMaximum) {
  Histogram h(3);
  h.record(1000);  // bucket [960, 1023]
  EXPECT_EQ(h.percentile(50), 1000u);
  EXPECT_EQ(h.percentile(99.9), 1000u);
}

TEST(Histogram, MeanIsExactForSmallSums) {
  Histogram h;
  h.record(10);
  h.record(20);
  h.record_n(30, 2);
  EXPECT_DOUBLE_EQ(h.mean(), 22.5);
  EXPECT_EQ(h.count(), 4u);
}

TEST(Histogram, EmptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 random(3);
  Histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t v = random() % 10'000'000;
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {10.0, 50.0, 99.0, 99.9})
    EXPECT_EQ(a.percentile(p), all.percentile(p));
}

TEST(Histogram, MergingAnEmptyOneChangesNothing) {
  Histogram a, empty;
  a.record(5);
  a.merge(empty);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(a.min(), 5u);
}

TEST(Histogram, RefusesMergingDifferentPrecisions) {
  Histogram a(7), b(8);
  EXPECT_THROW(a.merge(b), std::invalid_argument);
  EXPECT_THROW(Histogram(0), std::invalid_argument);
  EXPECT_THROW(Histogram(17), std::invalid_argument);
}

TEST(Histogram, ResetForgetsEverything) {
  Histogram h;
  h.record(99);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
}

TEST(Histogram, ExtremesAreRecorded) {
  Histogram h;
  h.record(0);
  h.record(UINT64_MAX);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.percentile(100), UINT64_MAX);
}

}  // namespace
}  // namespace cicada::bench
