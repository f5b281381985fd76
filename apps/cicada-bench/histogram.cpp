#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace cicada::bench {

// Layout: with shift = max(0, floor(log2 v) - s), a value's bucket is
//   index = shift * 2^s + (v >> shift).
// For shift = 0 that is v itself (values below 2^(s+1) are exact); each further
// power of two adds 2^s buckets of width 2^shift. The largest index, for 2^64 - 1, is
// (63 - s) * 2^s + 2^(s+1) - 1, hence (65 - s) * 2^s buckets.
Histogram::Histogram(unsigned sub_bucket_bits) : bits_(sub_bucket_bits) {
  if (bits_ < 1 || bits_ > 16) throw std::invalid_argument("histogram precision out of range");
  counts_.assign(std::size_t{65 - bits_} << bits_, 0);
}

std::size_t Histogram::bucket_index(std::uint64_t value) const noexcept {
  const int magnitude = static_cast<int>(std::bit_width(value)) - 1;  // floor(log2 v); -1 for 0
  const unsigned shift =
      magnitude > static_cast<int>(bits_) ? static_cast<unsigned>(magnitude) - bits_ : 0;
  return (std::size_t{shift} << bits_) + static_cast<std::size_t>(value >> shift);
}

std::uint64_t Histogram::bucket_lowest(std::size_t index) const noexcept {
  const std::size_t major = index >> bits_;
  const unsigned shift = major == 0 ? 0 : static_cast<unsigned>(major - 1);
  const std::uint64_t mantissa = index - (std::size_t{shift} << bits_);
  return mantissa << shift;
}

std::uint64_t Histogram::bucket_highest(std::size_t index) const noexcept {
  const std::size_t major = index >> bits_;
  const unsigned shift = major == 0 ? 0 : static_cast<unsigned>(major - 1);
  return bucket_lowest(index) + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record_n(std::uint64_t value, std::uint64_t n) noexcept {
  if (n == 0) return;
  counts_[bucket_index(value)] += n;
  count_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value) * static_cast<double>(n);
}

void Histogram::merge(const Histogram& other) {
  if (other.bits_ != bits_)
    throw std::invalid_argument("merging histograms of different precision");
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const noexcept {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
}

double Histogram::relative_error() const noexcept {
  return std::ldexp(1.0, -static_cast<int>(bits_));
}

std::uint64_t Histogram::percentile(double percent) const noexcept {
  if (count_ == 0) return 0;
  if (percent <= 0) return min_;
  if (percent >= 100) return max_;
  // The rank of the wanted value among count_ sorted values, 1-based.
  auto rank = static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_highest(i), max_);
  }
  return max_;
}

}  // namespace cicada::bench
