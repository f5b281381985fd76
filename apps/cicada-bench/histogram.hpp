// Histogram: a log-linear histogram of unsigned 64-bit values (HdrHistogram's bucket
// layout). Every power-of-two range [2^k, 2^(k+1)) is split into 2^s equal sub-buckets
// and values below 2^(s+1) are counted exactly, so any reported value is at most a
// factor 2^-s above the value it stands for, over the whole 64-bit range. With the
// default s = 7 that is 0.79 % with 7,424 counters (58 KiB), allocated once.
// record() is O(1) and never allocates, so it can sit on the per-message path.
// Thread-safety: single owner; merge() copies of other owners' histograms after
// their threads have stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cicada::bench {

class Histogram {
 public:
  // sub_bucket_bits (s) in [1, 16]: precision of 2^-s.
  explicit Histogram(unsigned sub_bucket_bits = 7);

  void record(std::uint64_t value) noexcept { record_n(value, 1); }
  void record_n(std::uint64_t value, std::uint64_t n) noexcept;
  // Adds every value recorded in `other`, which must have the same precision.
  void merge(const Histogram& other);
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  // 0 when empty.
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept;
  // The smallest value v such that `percent` % of the recorded values are <= v, as the
  // highest value of v's bucket but never above max(); 0 when empty.
  // Relative error against the exact percentile: in [0, 2^-s].
  std::uint64_t percentile(double percent) const noexcept;

  unsigned sub_bucket_bits() const noexcept { return bits_; }
  double relative_error() const noexcept;

  // Bucket arithmetic, exposed for tests.
  std::size_t bucket_count() const noexcept { return counts_.size(); }
  std::size_t bucket_index(std::uint64_t value) const noexcept;
  std::uint64_t bucket_lowest(std::size_t index) const noexcept;
  std::uint64_t bucket_highest(std::size_t index) const noexcept;

 private:
  unsigned bits_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  // Summed in double: exact to 2^53 ns (104 days) of summed latency, close beyond.
  double sum_ = 0;
};

}  // namespace cicada::bench
