#include <algorithm>
#include <cmath>

#include <cicada/client/backoff.hpp>

namespace cicada::client {

std::chrono::milliseconds backoff_cap(const BackoffOptions& options, std::uint32_t attempt) {
  const double base = static_cast<double>(options.initial_max_delay.count());
  const double grown = base * std::pow(std::max(options.factor, 1.0),
                                       static_cast<double>(attempt > 0 ? attempt - 1 : 0));
  const double limit = static_cast<double>(options.max_delay.count());
  const auto cap = static_cast<std::int64_t>(std::min(grown, limit));
  return std::max(std::chrono::milliseconds(cap), options.min_delay);
}

std::chrono::milliseconds backoff_delay(const BackoffOptions& options, std::uint32_t attempt,
                                        std::mt19937_64& rng) {
  const auto low = options.min_delay.count();
  const auto high = backoff_cap(options, attempt).count();
  if (high <= low) return options.min_delay;
  std::uniform_int_distribution<std::int64_t> pick(low, high);
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace cicada::client
