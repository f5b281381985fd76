// Worker: one thread, one epoll set, the connections it owns for their whole life.
// Each loop turn: wait for readiness (and a 1 ms timerfd tick), read and handle what
// arrived, start connections that are due, publish what the rate allows, then flush
// every connection with queued output once, with a single send().
// Thread-safety: a Worker's connections and metrics belong to its thread; the
// controller talks to it only through Control (atomics) and reads its Counters, and
// reads the rest after join().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "connection.hpp"
#include "metrics.hpp"

namespace cicada::bench {

// How the controller steers the workers.
struct Control {
  // Connections of group g may start once g < released_groups, the i-th of the group
  // (by ordinal) at release_ns[g] + i * connect interval.
  std::array<std::atomic<std::uint64_t>, 2> release_ns{};
  std::atomic<unsigned> released_groups{0};
  std::atomic<bool> stop_publishing{false};
  std::atomic<bool> disconnect{false};
};

struct Pacing {
  std::uint64_t connect_interval_ns = 0;
  // Total msg/s over all publishers, split between workers by their share of
  // publishers; 0: publish_interval_ns decides.
  double total_rate = 0;
  std::uint32_t total_publishers = 0;
  // Per publisher; 0 (with total_rate 0): as fast as each socket takes.
  std::uint64_t publish_interval_ns = 0;
  // Output queued per connection per loop turn before it is flushed.
  std::size_t batch_bytes = 64 * 1024;
};

class Worker {
 public:
  Worker(const ClientSettings& settings, const Pacing& pacing, Control& control, ErrorLog& errors,
         std::vector<ClientSpec> specs);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void join();

  // Any time, from any thread.
  const Counters& counters() const noexcept { return metrics_.counters; }
  // After join().
  const WorkerMetrics& metrics() const noexcept { return metrics_; }
  const std::vector<std::unique_ptr<Connection>>& connections() const noexcept {
    return connections_;
  }

 private:
  // Per-connection bookkeeping of the loop, beside the connection.
  struct Slot {
    static constexpr std::uint32_t none = UINT32_MAX;
    std::uint32_t active_at = none;  // position in active_
    bool dirty = false;              // in dirty_
    bool out_registered = false;     // EPOLLOUT in the epoll interest set
    bool publishing = false;         // counted in publishing_
    bool closed = false;
  };

  void run();
  void on_tick(std::uint64_t now);
  void start_due(std::uint64_t now);
  void publish_round();
  void flush_dirty(std::uint64_t now);
  void disconnect_all(std::uint64_t now);
  void stop_publishing();
  // Brings the loop's view of connection `id` (dirty, active, epoll interest, closed)
  // up to date after anything happened to it.
  void sync(std::uint32_t id);
  void set_active(std::uint32_t id, bool active);

  const ClientSettings& settings_;
  const Pacing pacing_;
  Control& control_;
  WorkerMetrics metrics_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> pending_;  // connection ids in start order
  std::size_t next_pending_ = 0;
  std::vector<std::uint32_t> active_;  // publishers that can publish now
  std::size_t cursor_ = 0;             // round-robin position in active_ (rate mode)
  std::vector<std::uint32_t> dirty_;   // connections with output to flush
  std::vector<std::uint32_t> flushing_;
  std::size_t closed_ = 0;
  std::size_t publishing_ = 0;
  std::uint32_t own_publishers_ = 0;

  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  bool publishing_enabled_ = true;
  bool disconnecting_ = false;
  double tokens_ = 0;
  std::uint64_t last_tick_ns_ = 0;
  std::uint64_t next_second_ns_ = 0;
  std::thread thread_;
};

}  // namespace cicada::bench
