// What a worker measures. Counters are written by the worker that owns them and read
// by the controller once per progress line; histograms and stream trackers are read
// only after the worker's thread has been joined.
// Thread-safety: Counter is single-writer, many-reader; the rest single owner.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "histogram.hpp"
#include "sequence_tracker.hpp"

namespace cicada::bench {

// A counter with one writer: a relaxed load + store, no read-modify-write instruction
// on the per-message path.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { set(load() + n); }
  void sub(std::uint64_t n = 1) noexcept { set(load() - n); }
  void set(std::uint64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }
  std::uint64_t load() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

enum class Role : std::uint8_t { conn, pub, sub };
inline constexpr std::size_t role_count = 3;
inline std::size_t role_index(Role role) noexcept {
  return static_cast<std::size_t>(role);
}

struct Counters {
  // Per role: reached the working state (CONNACK; SUBACK for subscribers), never got
  // there (refused, timed out, socket error), or dropped after getting there.
  std::array<Counter, role_count> ready;
  std::array<Counter, role_count> failed;
  std::array<Counter, role_count> lost;
  Counter publishers_finished;  // reached their share of -L, failed or were lost
  Counter sent;                 // PUBLISH packets queued
  Counter acked;                // PUBACK / PUBCOMP received for them
  Counter rejected;             // acknowledged with an MQTT 5 error reason code
  Counter inflight;             // QoS 1/2 awaiting acknowledgement (a gauge)
  Counter received;             // PUBLISH packets received
  Counter foreign;              // of which without a cicada-bench payload header
  Counter errors;               // every failure, lost connection and protocol error
  Counter first_send_ns, last_send_ns, first_recv_ns, last_recv_ns;
  // First connection attempt started, last client reached its working state: the
  // connect phase, whose length gives the connect rate.
  Counter first_connect_ns, last_ready_ns;
};

// One stream: what one subscriber received from one publisher of one run.
struct StreamKey {
  std::uint32_t subscriber = 0;  // subscriber ordinal
  std::uint32_t run_id = 0;
  std::uint32_t publisher = 0;  // publisher index from the payload
  bool operator==(const StreamKey&) const = default;
};
struct StreamKeyHash {
  std::size_t operator()(const StreamKey& key) const noexcept {
    std::uint64_t h = (std::uint64_t{key.subscriber} << 32 | key.publisher) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h ^ (h >> 29) ^ key.run_id);
  }
};
using StreamTable = std::unordered_map<StreamKey, SequenceTracker, StreamKeyHash>;

struct WorkerMetrics {
  Counters counters;
  Histogram latency;          // publish to receive, ns
  Histogram ack_latency;      // PUBLISH to PUBACK / PUBCOMP, ns
  Histogram connect_latency;  // TCP connect start to CONNACK, ns
  StreamTable streams;        // allocates once per new stream, not per message
};

// Prints the first few errors to stderr and counts the rest, so a broker that refuses
// ten thousand clients does not flood the terminal.
// Thread-safety: any thread.
class ErrorLog {
 public:
  explicit ErrorLog(unsigned max_lines = 20) : max_lines_(max_lines) {}
  void report(std::string_view client, std::string_view what) noexcept {
    const unsigned n = printed_.fetch_add(1, std::memory_order_relaxed);
    if (n < max_lines_) {
      std::fprintf(stderr, "cicada-bench: %.*s: %.*s\n", static_cast<int>(client.size()),
                   client.data(), static_cast<int>(what.size()), what.data());
    } else if (n == max_lines_) {
      std::fprintf(stderr, "cicada-bench: further errors are counted, not printed\n");
    }
  }

 private:
  unsigned max_lines_;
  std::atomic<unsigned> printed_{0};
};

}  // namespace cicada::bench
