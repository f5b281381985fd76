// SysPublisher: the $SYS tree's timer. Every sys_topics.sys_msg_interval it samples
// the broker's figures (the counters of every worker, the router's counts), keeps
// those that changed since the last publication (SysTree) and publishes each as a
// retained QoS 0 message from the broker itself, through the router, as a Will is
// published (Worker::publish): stored in the retained tree for late subscribers and
// delivered to the subscribers of its topic like any message.
// It runs on worker 0, from that worker's run_at() timer: a sample is a few relaxed
// loads per worker and three short router locks, so it never blocks the worker.
// Thread-safety: start() from the thread that owns the Broker, once, before or after
// the workers start; everything else on worker 0's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "message.hpp"
#include "router.hpp"
#include "sys_load.hpp"
#include "sys_tree.hpp"

namespace cicada::broker {

class Worker;

class SysPublisher {
 public:
  // `workers` are all the broker's workers; the first one runs the timer. `interval`
  // is above zero (zero means no $SYS tree: the Broker then makes no publisher).
  SysPublisher(std::vector<Worker*> workers, Router& router, std::chrono::seconds interval);

  // The first publication comes at once, the next after each interval.
  void start();

  // The figures now; on any thread. clients_maximum is left to publish(): it is the
  // most clients seen at a publication.
  SysSample sample(TimePoint now) const;

 private:
  void publish(Worker& worker);

  std::vector<Worker*> workers_;
  Router& router_;
  std::chrono::seconds interval_;
  TimePoint started_{};
  TimePoint next_{};                   // when the next publication is due
  std::uint64_t clients_maximum_ = 0;  // the most clients connected at a publication
  TimePoint last_publication_{};
  SysLoad load_;
  SysTree tree_;
};

// A retained QoS 0 message from the broker (publisher 0) owning its bytes.
MessagePtr sys_message(const SysFigure& figure);

}  // namespace cicada::broker
