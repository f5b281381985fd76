#include "sys_publisher.hpp"

#include <algorithm>

#include "overload_counters.hpp"
#include "worker.hpp"

#ifndef CICADA_VERSION
#define CICADA_VERSION "unknown"
#endif

namespace cicada::broker {

SysPublisher::SysPublisher(std::vector<Worker*> workers, Router& router,
                           std::chrono::seconds interval)
    : workers_(std::move(workers)), router_(router), interval_(interval) {}

void SysPublisher::start() {
  started_ = Clock::now();
  next_ = started_;
  workers_.front()->post([this](Worker& worker) { publish(worker); });
}

SysSample SysPublisher::sample(TimePoint now) const {
  SysSample s;
  s.version = "cicada version " CICADA_VERSION;  // Mosquitto: "mosquitto version 2.0.11"
  s.uptime_seconds = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(now - started_).count());
  auto relaxed = [](const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  for (Worker* worker : workers_) {
    const WorkerStats& w = worker->stats();
    const SessionStats& sessions = worker->session_stats();
    s.clients_connected += relaxed(w.clients_connected);
    s.connects += relaxed(w.connects);
    s.sockets_accepted += relaxed(w.connections_accepted);
    s.clients_expired += relaxed(w.sessions_expired);
    s.messages_received += relaxed(w.packets_received);
    s.messages_sent += relaxed(w.packets_sent);
    s.publish_received += relaxed(w.publish_received);
    s.publish_bytes_received += relaxed(w.publish_bytes_received);
    s.publish_bytes_sent += relaxed(w.publish_bytes_sent);
    s.publish_sent += relaxed(sessions.delivered);
    // Every message owed to a session that it did not get; a slow consumer's QoS 0
    // and a message too large for its client are among dropped_by_connection.
    s.publish_dropped +=
        relaxed(sessions.dropped_queue_full) + relaxed(sessions.dropped_qos0_offline) +
        relaxed(sessions.dropped_expired) + relaxed(sessions.dropped_by_connection);
    s.bytes_received += relaxed(w.bytes_received);
    s.bytes_sent += relaxed(w.bytes_sent);
  }
  s.clients_total = router_.session_count();
  s.subscriptions = router_.subscription_count();
  s.retained = router_.retained_count();
  for (const auto& [name, member] : overload_counters) {
    s.overload.emplace_back(name, sum(workers_, member));
  }
  return s;
}

void SysPublisher::publish(Worker& worker) {
  const TimePoint now = Clock::now();
  SysSample s = sample(now);
  clients_maximum_ = std::max(clients_maximum_, s.clients_connected);
  s.clients_maximum = clients_maximum_;
  std::vector<SysFigure> figures = sys_figures(s);
  const auto counts = sys_load_counts(s);
  for (SysFigure& figure : load_.update(counts, now - last_publication_)) {
    figures.push_back(std::move(figure));
  }
  last_publication_ = now;
  for (const SysFigure& figure : tree_.changed(std::move(figures))) {
    worker.publish(sys_message(figure));
  }
  // A fixed cadence; after a long stall (a debugger, a suspended VM) the next one is
  // an interval from now, not a burst of the publications missed.
  next_ += interval_;
  if (next_ <= now) next_ = now + interval_;
  worker.run_at(next_, [this, &worker] { publish(worker); });
}

MessagePtr sys_message(const SysFigure& figure) {
  Message message;
  message.topic = figure.topic;
  message.payload = figure.payload;
  message.qos = codec::QoS::at_most_once;
  message.retain = true;
  message.publisher = 0;    // the broker itself: No Local never applies
  return compact(message);  // owns its bytes: the figure is gone once this returns
}

}  // namespace cicada::broker
