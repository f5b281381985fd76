// The overload counters of WorkerStats by name: the one list both the exit log line
// (Broker::log_overload_counters) and the $SYS tree ($SYS/broker/overload/<name>,
// sys_publisher.cpp) read, so the two can never name a counter differently.
// Thread-safety: constant data; sum() reads relaxed atomics and may run on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>
#include <utility>

#include "worker.hpp"

namespace cicada::broker {

using WorkerCounter = std::atomic<std::uint64_t> WorkerStats::*;

// docs/security.md "Overload protection": each refusal or pause by its reason.
inline constexpr std::pair<std::string_view, WorkerCounter> overload_counters[] = {
    {"refused_listener_max_connections", &WorkerStats::refused_listener_max_connections},
    {"refused_node_max_connections", &WorkerStats::refused_node_max_connections},
    {"accept_rate_pauses", &WorkerStats::accept_rate_pauses},
    {"publish_rate_pauses", &WorkerStats::publish_rate_pauses},
    {"connect_timeouts", &WorkerStats::connect_timeouts},
    {"refused_max_subscriptions", &WorkerStats::refused_max_subscriptions},
    {"refused_topic_levels", &WorkerStats::refused_topic_levels},
    {"refused_topic_length", &WorkerStats::refused_topic_length},
    {"auth_failures", &WorkerStats::auth_failures},
    {"refused_banned", &WorkerStats::refused_banned},
};

// One counter summed over the workers.
template <class Workers>
std::uint64_t sum(const Workers& workers, WorkerCounter counter) {
  std::uint64_t total = 0;
  for (const auto& worker : workers)
    total += (worker->stats().*counter).load(std::memory_order_relaxed);
  return total;
}

}  // namespace cicada::broker
