#include "scenario.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "accounting.hpp"
#include "clock.hpp"
#include "plan.hpp"
#include "report.hpp"

namespace cicada::bench {
namespace {

// Set by the signal handler, so it has to be a lock-free global.
std::atomic<int> interrupts{0};

extern "C" void on_signal(int) {
  if (interrupts.fetch_add(1) >= 1) ::_exit(130);  // a second Ctrl-C: stop now
}

constexpr std::uint64_t second_ns = 1'000'000'000;
// After publishing stops, deliveries are taken as drained once nothing arrived for this
// long and nothing awaits an acknowledgement.
constexpr std::uint64_t quiet_ns = 500'000'000;

struct Snapshot {
  std::array<std::uint64_t, role_count> ready{}, failed{}, lost{};
  std::uint64_t finished = 0, sent = 0, acked = 0, rejected = 0, inflight = 0, received = 0,
                foreign = 0, errors = 0;
  std::uint64_t first_send = 0, last_send = 0, first_recv = 0, last_recv = 0;
  std::uint64_t first_connect = 0, last_ready = 0;

  std::uint64_t all(const std::array<std::uint64_t, role_count>& per_role) const {
    return per_role[0] + per_role[1] + per_role[2];
  }
};

Snapshot sample(const std::vector<std::unique_ptr<Worker>>& workers) {
  Snapshot s;
  const auto earliest = [](std::uint64_t a, std::uint64_t b) {
    return a == 0 ? b : b == 0 ? a : std::min(a, b);
  };
  for (const auto& worker : workers) {
    const Counters& c = worker->counters();
    for (std::size_t r = 0; r < role_count; ++r) {
      s.ready[r] += c.ready[r].load();
      s.failed[r] += c.failed[r].load();
      s.lost[r] += c.lost[r].load();
    }
    s.finished += c.publishers_finished.load();
    s.sent += c.sent.load();
    s.acked += c.acked.load();
    s.rejected += c.rejected.load();
    s.inflight += c.inflight.load();
    s.received += c.received.load();
    s.foreign += c.foreign.load();
    s.errors += c.errors.load();
    s.first_send = earliest(s.first_send, c.first_send_ns.load());
    s.last_send = std::max(s.last_send, c.last_send_ns.load());
    s.first_recv = earliest(s.first_recv, c.first_recv_ns.load());
    s.last_recv = std::max(s.last_recv, c.last_recv_ns.load());
    s.first_connect = earliest(s.first_connect, c.first_connect_ns.load());
    s.last_ready = std::max(s.last_ready, c.last_ready_ns.load());
  }
  return s;
}

enum class Phase { subscribing, running, draining, done };

struct Controller {
  const Options& options;
  const Plan& plan;
  Control& control;
  const std::vector<std::unique_ptr<Worker>>& workers;
  std::uint64_t start_ns = 0;
  std::uint64_t run_start_ns = 0;  // when -d starts counting
  std::uint64_t drain_start_ns = 0;
  std::uint64_t last_received = 0, last_received_change_ns = 0;
  int interrupts_seen = 0;
  Phase phase = Phase::running;
  std::string reason;  // why the run ended, for the summary

  void release(unsigned group, std::uint64_t now) {
    control.release_ns[group].store(now, std::memory_order_relaxed);
    control.released_groups.store(group + 1, std::memory_order_release);
  }

  // One step of the phase machine, every 20 ms.
  void step(const Snapshot& s, std::uint64_t now) {
    const std::size_t sub = role_index(Role::sub);
    const int interrupted = interrupts.load();
    const bool new_interrupt = interrupted > interrupts_seen;
    interrupts_seen = interrupted;
    if (s.received != last_received) {
      last_received = s.received;
      last_received_change_ns = now;
    }
    switch (phase) {
      case Phase::subscribing:
        if (new_interrupt) {
          end("interrupted");
        } else if (s.ready[sub] + s.failed[sub] >= plan.subscribers) {
          if (s.ready[sub] == 0) {
            end("no subscription was granted");
          } else {
            release(1, now);
            run_start_ns = now;
            phase = Phase::running;
          }
        }
        break;
      case Phase::running: {
        const std::uint64_t clients = plan.specs.size();
        const std::uint64_t settled = s.all(s.ready) + s.all(s.failed);
        const bool none_alive = settled >= clients && s.all(s.ready) == s.all(s.lost);
        if (new_interrupt) {
          stop("interrupted", now);
        } else if (options.duration_s > 0 &&
                   now - run_start_ns >= static_cast<std::uint64_t>(options.duration_s * 1e9)) {
          stop("duration reached", now);
        } else if (plan.publishers > 0 && s.finished >= plan.publishers) {
          stop(options.limit > 0 ? "message limit reached" : "no publisher left", now);
        } else if (options.scenario == Scenario::sub && options.limit > 0 &&
                   s.received >= options.limit) {
          stop("message limit reached", now);
        } else if (none_alive) {
          stop("no client left", now);
        }
        break;
      }
      case Phase::draining: {
        const bool acked = s.inflight == 0;
        const bool quiet = plan.subscribers == 0 || now - last_received_change_ns >= quiet_ns;
        if ((acked && quiet) || new_interrupt ||
            now - drain_start_ns >= static_cast<std::uint64_t>(options.drain_s * 1e9)) {
          if (!acked) reason += "; drain timed out with messages unacknowledged";
          phase = Phase::done;
        }
        break;
      }
      case Phase::done:
        break;
    }
  }

  void stop(const char* why, std::uint64_t now) {
    reason = why;
    if (plan.publishers == 0) {
      phase = Phase::done;
      return;
    }
    control.stop_publishing.store(true, std::memory_order_release);
    drain_start_ns = now;
    last_received_change_ns = now;
    phase = Phase::draining;
  }

  void end(const char* why) {
    reason = why;
    phase = Phase::done;
  }
};

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

std::optional<LossTotals> account(const Options& options, const Plan& plan,
                                  const std::vector<std::unique_ptr<Worker>>& workers) {
  if (plan.subscribers == 0) return std::nullopt;
  std::vector<const StreamTable*> tables;
  for (const auto& worker : workers)
    tables.push_back(&worker->metrics().streams);
  if (options.scenario != Scenario::pubsub) return account_loss(tables, nullptr);
  KnownRun run{.run_id = plan.settings.run_id};
  for (const auto& worker : workers) {
    for (const auto& connection : worker->connections()) {
      const ClientSpec& spec = connection->spec();
      if (spec.role == Role::pub) {
        run.publishers.push_back({.index = static_cast<std::uint32_t>(spec.index),
                                  .topic = spec.topic,
                                  .sent = connection->published()});
      } else if (spec.role == Role::sub) {
        run.subscribers.push_back(
            {.ordinal = spec.ordinal, .filter = spec.topic, .subscribed = connection->was_ready()});
      }
    }
  }
  return account_loss(tables, &run);
}

Summary summarize_run(const Options& options, const Plan& plan,
                      const std::vector<std::unique_ptr<Worker>>& workers, const Snapshot& s,
                      double elapsed_s) {
  Summary sum{.scenario = std::string(to_string(options.scenario)),
              .broker = plan.broker_text,
              .protocol = std::string(codec::to_string(options.version)),
              .qos = options.scenario == Scenario::sub ? options.sub_qos.value_or(0) : options.qos,
              .payload_bytes = plan.publishers > 0 ? options.payload_size : 0,
              .publishers = plan.publishers,
              .subscribers = plan.subscribers,
              .idle = plan.idle};
  sum.connected = s.all(s.ready);
  sum.conn_failed = s.all(s.failed);
  sum.conn_lost = s.all(s.lost);
  sum.never_connected = plan.specs.size() - sum.connected - sum.conn_failed;
  sum.elapsed_s = elapsed_s;
  const auto seconds = [](std::uint64_t from, std::uint64_t to) {
    return to > from ? static_cast<double>(to - from) / 1e9 : 0.0;
  };
  sum.publish_s = seconds(s.first_send, s.last_send);
  sum.receive_s = seconds(s.first_recv, s.last_recv);
  sum.connect_s = seconds(s.first_connect, s.last_ready);
  sum.sent = s.sent;
  sum.acked = s.acked;
  sum.rejected = s.rejected;
  sum.received = s.received;
  sum.foreign = s.foreign;
  sum.errors = s.errors;

  Histogram latency, ack_latency, connect_latency;
  for (const auto& worker : workers) {
    latency.merge(worker->metrics().latency);
    ack_latency.merge(worker->metrics().ack_latency);
    connect_latency.merge(worker->metrics().connect_latency);
  }
  if (latency.count() > 0) sum.latency_us = summarize(latency, 1e3);
  if (ack_latency.count() > 0) sum.ack_latency_us = summarize(ack_latency, 1e3);
  if (connect_latency.count() > 0) sum.connect_ms = summarize(connect_latency, 1e6);
  if (auto loss = account(options, plan, workers)) {
    sum.lost = loss->lost;
    sum.duplicates = loss->duplicates;
    sum.reordered = loss->reordered;
    sum.loss_note = loss->note;
  }

  const std::uint64_t bad = sum.conn_failed + sum.conn_lost;
  if (sum.connected == 0) {
    sum.exit_code = 1;
    sum.exit_reason = "no client connected";
  } else if (static_cast<double>(bad) * 100 >
             options.max_fail_percent * static_cast<double>(plan.specs.size())) {
    sum.exit_code = 1;
    sum.exit_reason = std::to_string(bad) + " of " + std::to_string(plan.specs.size()) +
                      " clients failed or were lost (more than --max-fail " +
                      std::to_string(options.max_fail_percent) + " %)";
  }
  return sum;
}

}  // namespace

int run_scenario(const Options& options) {
  auto plan = make_plan(options);
  if (!plan) {
    std::fprintf(stderr, "cicada-bench: %s\n", plan.error().c_str());
    return 2;
  }
  install_signal_handlers();
  Control control;
  ErrorLog errors;
  const unsigned count = std::max<unsigned>(
      1, std::min<unsigned>(options.threads, static_cast<unsigned>(plan->specs.size())));
  std::vector<std::unique_ptr<Worker>> workers;
  {
    // Workers inherit a mask without SIGINT/SIGTERM, so the main thread takes them.
    sigset_t block, previous;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &block, &previous);
    for (auto& part : distribute(plan->specs, count)) {
      workers.push_back(
          std::make_unique<Worker>(plan->settings, plan->pacing, control, errors, std::move(part)));
      workers.back()->start();
    }
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  Controller controller{options, *plan, control, workers};
  const std::uint64_t start = monotonic_ns();
  controller.start_ns = controller.run_start_ns = controller.last_received_change_ns = start;
  controller.phase = options.scenario == Scenario::pubsub ? Phase::subscribing : Phase::running;
  controller.release(0, start);

  Snapshot previous;
  std::uint64_t previous_ns = start;
  std::uint64_t next_line = start + second_ns;
  while (controller.phase != Phase::done) {
    // The controller thread only samples the workers' counters: it runs no event loop,
    // so a short sleep between samples blocks nothing.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::uint64_t now = monotonic_ns();
    const Snapshot s = sample(workers);
    controller.step(s, now);
    if (now >= next_line && !options.quiet) {
      const double dt = static_cast<double>(now - previous_ns) / 1e9;
      ProgressLine line{.elapsed_s = static_cast<double>(now - start) / 1e9,
                        .connected = s.all(s.ready) - s.all(s.lost),
                        .clients = plan->specs.size(),
                        .failed = s.all(s.failed) + s.all(s.lost),
                        .sent_per_s = static_cast<double>(s.sent - previous.sent) / dt,
                        .received_per_s = static_cast<double>(s.received - previous.received) / dt,
                        .inflight = s.inflight,
                        .errors = s.errors};
      std::printf("%s\n", format_progress(line).c_str());
      std::fflush(stdout);
      previous = s;
      previous_ns = now;
      next_line += second_ns * ((now - next_line) / second_ns + 1);
    }
  }
  control.disconnect.store(true, std::memory_order_release);
  for (auto& worker : workers)
    worker->join();
  const double elapsed = static_cast<double>(monotonic_ns() - start) / 1e9;

  Summary summary = summarize_run(options, *plan, workers, sample(workers), elapsed);
  summary.exit_reason =
      controller.reason + (summary.exit_reason.empty() ? "" : "; ") + summary.exit_reason;
  print_summary(summary, stdout);
  std::printf("%s\n", summary_json(summary).c_str());
  std::fflush(stdout);
  return summary.exit_code;
}

}  // namespace cicada::bench
