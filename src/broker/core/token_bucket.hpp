// TokenBucket: a sans-I/O token bucket (STYLE.md 1) for the overload limits: a rate in
// tokens per second and a burst, with the time passed in by the caller (tests drive it
// with made-up TimePoints; the broker with the worker's clock).
//
// It is kept as GCRA's "theoretical arrival time": `tat_` is when the bucket would be
// full again. Taking `cost` tokens moves it cost/rate later; the bucket has tokens left
// while tat_ < now + burst/rate. A take may go below zero (into debt): the reader has
// already read the packet, and a packet larger than the burst must still pass one day.
// The debt is paid by waiting, so the long-run rate is the configured one. ready() asks
// for one whole token, so after a burst the next take waits one interval. No floating
// point and no timer: the caller asks ready_at() and sets its own.
// Thread-safety: a plain value; one owner (a connection's worker, or a listener under
// its mutex).
#pragma once

#include <chrono>
#include <cstdint>

#include "message.hpp"  // TimePoint

namespace cicada::broker {

class TokenBucket {
 public:
  // `rate`: tokens per second, at least 1. `burst`: tokens that may be taken at once
  // after a quiet period, at least 1. The bucket starts full.
  TokenBucket(std::uint64_t rate, std::uint64_t burst) noexcept;

  // Takes `cost` tokens, going into debt if there are fewer.
  void take(std::uint64_t cost, TimePoint now) noexcept;
  // True while at least one token is left: the owner may go on.
  bool ready(TimePoint now) const noexcept { return tat_ <= now + tolerance_; }
  // The first instant at which ready() is true again (`now` or earlier when it is).
  TimePoint ready_at() const noexcept { return tat_ - tolerance_; }

 private:
  std::chrono::nanoseconds cost_duration(std::uint64_t cost) const noexcept;

  std::uint64_t rate_;
  std::chrono::nanoseconds tolerance_;  // (burst - 1) / rate
  TimePoint tat_{};                     // the start of the clock: full
};

}  // namespace cicada::broker
