// The one clock of the tool: CLOCK_MONOTONIC in nanoseconds. Publishers stamp payloads
// with it and subscribers on the same host subtract it, so it must be the same clock
// in every process of a run (CLOCK_MONOTONIC is system-wide).
// Thread-safety: pure function.
#pragma once

#include <time.h>

#include <cstdint>

namespace cicada::bench {

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace cicada::bench
