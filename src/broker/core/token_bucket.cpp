#include "token_bucket.hpp"

#include <algorithm>
#include <limits>

namespace cicada::broker {

namespace {
__extension__ using Wide = unsigned __int128;  // GCC and Clang; -Wpedantic knows it not
constexpr Wide kNanosPerSecond = 1'000'000'000;
// Long enough for any debt a real packet makes, short enough never to overflow a
// steady_clock time_point (about 292 years of nanoseconds).
constexpr std::int64_t kMaxDuration = std::int64_t{1} << 52;  // ~52 days
}  // namespace

TokenBucket::TokenBucket(std::uint64_t rate, std::uint64_t burst) noexcept
    : rate_(std::max<std::uint64_t>(rate, 1)),
      tolerance_(cost_duration(std::max<std::uint64_t>(burst, 1) - 1)) {}

std::chrono::nanoseconds TokenBucket::cost_duration(std::uint64_t cost) const noexcept {
  // 128-bit: cost x 10^9 overflows 64 bits for costs above ~18 GB; the division
  // keeps sub-token precision for rates above 10^9 per second.
  const Wide nanos = static_cast<Wide>(cost) * kNanosPerSecond / rate_;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min<Wide>(nanos, kMaxDuration)));
}

void TokenBucket::take(std::uint64_t cost, TimePoint now) noexcept {
  // A bucket left alone fills up to its burst and no further: time that passed while
  // it was full is not saved up.
  tat_ = std::max(tat_, now) + cost_duration(cost);
}

}  // namespace cicada::broker
