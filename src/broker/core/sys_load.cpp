#include "sys_load.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cicada::broker {

std::array<SysLoad::Count, 9> sys_load_counts(const SysSample& s) {
  return {{{"messages/received", s.messages_received},
           {"messages/sent", s.messages_sent},
           {"publish/dropped", s.publish_dropped},
           {"publish/received", s.publish_received},
           {"publish/sent", s.publish_sent},
           {"bytes/received", s.bytes_received},
           {"bytes/sent", s.bytes_sent},
           {"sockets", s.sockets_accepted},
           {"connections", s.connects}}};
}

std::vector<SysFigure> SysLoad::update(std::span<const Count> counts,
                                       std::chrono::duration<double> elapsed) {
  const bool first = series_.size() != counts.size();
  if (first) series_.assign(counts.size(), Series{});
  std::vector<SysFigure> out;
  out.reserve(counts.size() * windows.size());
  const double seconds = elapsed.count();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    Series& series = series_[i];
    const auto& [name, total] = counts[i];
    if (first || series.name != name) {
      series = Series{std::string(name), total, {}};
    } else if (seconds > 0) {
      // A total never goes down; if it did (it cannot), the interval counts as idle.
      const double delta = total >= series.last ? static_cast<double>(total - series.last) : 0.0;
      const double rate = delta * 60.0 / seconds;  // per minute, as Mosquitto's
      for (std::size_t w = 0; w < windows.size(); ++w) {
        const double decay = std::exp(-seconds / windows[w].second);
        series.average[w] = rate + decay * (series.average[w] - rate);
      }
      series.last = total;
    }
    for (std::size_t w = 0; w < windows.size(); ++w) {
      // A 64-bit count over a nanosecond, per minute, is below 1e30: 64 bytes hold any
      // average with its two decimals.
      char payload[64];
      const int size = std::snprintf(payload, sizeof payload, "%.2f", series.average[w]);
      out.push_back({"$SYS/broker/load/" + std::string(name) + "/" + std::string(windows[w].first),
                     std::string(payload, static_cast<std::size_t>(std::max(size, 0)))});
    }
  }
  return out;
}

}  // namespace cicada::broker
