// What the user sees: one progress line per second while running, then a summary for
// people and one JSON line for scripts (always the last line of stdout).
// Thread-safety: pure functions of their arguments, called from the main thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "histogram.hpp"

namespace cicada::bench {

struct ProgressLine {
  double elapsed_s = 0;
  std::uint64_t connected = 0;  // now (ready and not lost)
  std::uint64_t clients = 0;
  std::uint64_t failed = 0;  // failed to connect plus lost
  double sent_per_s = 0;
  double received_per_s = 0;
  std::uint64_t inflight = 0;
  std::uint64_t errors = 0;
};
std::string format_progress(const ProgressLine& line);

// Percentiles of a latency histogram in ns, reported in the unit the caller divides by.
struct LatencySummary {
  std::uint64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};
LatencySummary summarize(const Histogram& histogram, double ns_per_unit);

struct Summary {
  std::string scenario;
  std::string broker;
  std::string protocol;  // "3.1", "3.1.1" or "5.0"
  unsigned qos = 0;
  std::size_t payload_bytes = 0;
  std::uint32_t publishers = 0, subscribers = 0, idle = 0;
  std::uint64_t connected = 0, conn_failed = 0, conn_lost = 0;
  std::uint64_t never_connected = 0;  // still connecting, or not started, when the run ended
  double elapsed_s = 0;
  double publish_s = 0;  // first to last message sent
  double receive_s = 0;  // first to last message received
  double connect_s = 0;  // first connection attempt to the last client ready
  std::uint64_t sent = 0, acked = 0, rejected = 0, received = 0, foreign = 0;
  // Loss accounting; absent where it cannot be known (pub, conn).
  std::optional<std::uint64_t> lost, duplicates, reordered;
  std::string loss_note;  // why loss is partial, when it is
  std::optional<LatencySummary> latency_us, ack_latency_us, connect_ms;
  std::uint64_t errors = 0;
  int exit_code = 0;
  std::string exit_reason;
};

void print_summary(const Summary& summary, std::FILE* out);
std::string summary_json(const Summary& summary);

}  // namespace cicada::bench
