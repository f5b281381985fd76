// Reconnect backoff: exponential with jitter, as Eclipse Paho's autopaho does it.
// Attempt n (1-based) waits a uniformly random time in [min_delay, cap_n] where
// cap_n = min(max_delay, initial_max_delay * factor^(n-1)), so clients that lost the
// same broker do not all come back at the same instant.
// Thread-safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace cicada::client {

struct BackoffOptions {
  // autopaho's DefaultExponentialBackoff: 5 s, 10 min, 10 s, 1.5.
  std::chrono::milliseconds min_delay{5'000};
  std::chrono::milliseconds max_delay{600'000};
  std::chrono::milliseconds initial_max_delay{10'000};
  double factor = 1.5;
};

// The upper bound of attempt `attempt`'s delay (attempt >= 1).
std::chrono::milliseconds backoff_cap(const BackoffOptions& options, std::uint32_t attempt);

// The delay before attempt `attempt`, drawn from `rng`.
std::chrono::milliseconds backoff_delay(const BackoffOptions& options, std::uint32_t attempt,
                                        std::mt19937_64& rng);

}  // namespace cicada::client
