// Mosquitto's $SYS/broker/load/<figure>/<1min|5min|15min>: for each counter, its rate
// per minute over the last interval, smoothed by exponentially decaying moving averages
// over 1, 5 and 15 minutes (as a Unix load average: each interval the average moves
// towards the rate by 1 - e^(-interval/window)). Payloads with two decimals, as
// Mosquitto writes them. Pure: cumulative counts and the time between two calls in,
// figures out.
// Thread-safety: a SysLoad belongs to its publisher's thread (worker 0).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sys_tree.hpp"

namespace cicada::broker {

class SysLoad {
 public:
  using Count = std::pair<std::string_view, std::uint64_t>;  // "messages/received", total

  // `counts` are the counters' totals now, the same names in the same order every call;
  // `elapsed` is the time since the last call (ignored on the first, which publishes
  // every average at 0.00 and only remembers the totals).
  std::vector<SysFigure> update(std::span<const Count> counts,
                                std::chrono::duration<double> elapsed);

 private:
  static constexpr std::array<std::pair<std::string_view, double>, 3> windows{
      {{"1min", 60.0}, {"5min", 300.0}, {"15min", 900.0}}};
  struct Series {
    std::string name;
    std::uint64_t last = 0;           // the total at the last call
    std::array<double, 3> average{};  // per minute, one per window
  };
  std::vector<Series> series_;  // as many as the counts given: bounded by the caller
};

// The counters Mosquitto averages, by their names under load/.
std::array<SysLoad::Count, 9> sys_load_counts(const SysSample& sample);

}  // namespace cicada::broker
