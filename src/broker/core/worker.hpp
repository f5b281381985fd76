// Worker: one thread with its own single-threaded event loop (io_context with
// concurrency hint 1). It owns the connections accepted on it and the sessions of
// those connections' clients; nothing it owns is touched by another thread. Other
// threads talk to it through its inbox, which wakes its loop only on
// empty-to-non-empty (STYLE.md 3, 6).
// Thread-safety: post() and dispatch() from any thread; everything else on the
// worker's own thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include <cicada/base/inbox.hpp>

#include "../auth/hooks.hpp"
#include "../config/config.hpp"
#include "delivery.hpp"
#include "router.hpp"
#include "session.hpp"

namespace cicada::broker {

class Connection;

// Counters of one worker, read by other threads for metrics.
struct WorkerStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_closed{0};
  std::atomic<std::uint64_t> inbox_full_drops{0};
  std::atomic<std::uint64_t> slow_consumer_disconnects{0};
  std::atomic<std::uint64_t> slow_consumer_qos0_drops{0};
  std::atomic<std::uint64_t> too_large_drops{0};
  std::atomic<std::uint64_t> sessions_expired{0};
  // Overload protection (docs/security.md "Overload protection"): each refusal or
  // pause counted by its reason.
  std::atomic<std::uint64_t> refused_listener_max_connections{0};
  std::atomic<std::uint64_t> refused_node_max_connections{0};
  std::atomic<std::uint64_t> accept_rate_pauses{0};   // listeners.tcp.NAME.max_conn_rate
  std::atomic<std::uint64_t> publish_rate_pauses{0};  // mqtt.messages_rate / bytes_rate
  std::atomic<std::uint64_t> connect_timeouts{0};     // mqtt.idle_timeout
  std::atomic<std::uint64_t> refused_max_subscriptions{0};
  std::atomic<std::uint64_t> refused_topic_levels{0};
  std::atomic<std::uint64_t> refused_topic_length{0};
  std::atomic<std::uint64_t> auth_failures{0};   // answered after node.auth_failure_delay
  std::atomic<std::uint64_t> refused_banned{0};  // of those, 0x8A: node.auth_failure_limit
  // Traffic, for the $SYS tree (sys_publisher.cpp). Written only by this worker's
  // thread, with add()/subtract(): a plain load and store per packet, never a locked
  // read-modify-write on the hot path.
  std::atomic<std::uint64_t> packets_received{0};        // MQTT control packets of any type
  std::atomic<std::uint64_t> packets_sent{0};            // queued for the socket
  std::atomic<std::uint64_t> publish_received{0};        // PUBLISH packets, refused ones too
  std::atomic<std::uint64_t> publish_bytes_received{0};  // their payloads
  std::atomic<std::uint64_t> publish_bytes_sent{0};      // payloads of PUBLISH packets sent
  std::atomic<std::uint64_t> bytes_received{0};          // MQTT bytes, inside TLS and WebSocket
  std::atomic<std::uint64_t> bytes_sent{0};              // taken by the socket (or its layer)
  std::atomic<std::uint64_t> clients_connected{0};       // a gauge: CONNACK sent, not yet closed
  std::atomic<std::uint64_t> connects{0};                // CONNACK 0 sent: the gauge's increments

  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  static void subtract(std::atomic<std::uint64_t>& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
};

class Worker {
 public:
  Worker(std::uint32_t index, const Config& config, Router& router, AuthHooks& auth);
  ~Worker();

  std::uint32_t index() const noexcept { return index_; }
  boost::asio::io_context& io() noexcept { return io_; }
  const Config& config() const noexcept { return config_; }
  Router& router() noexcept { return router_; }
  AuthHooks& auth() noexcept { return auth_; }
  WorkerStats& stats() noexcept { return stats_; }
  const SessionStats& session_stats() const noexcept { return session_env_.stats; }
  // The coarse monotonic clock: the same time base as steady_clock, to a few
  // milliseconds, at a fraction of the cost. The broker reads it for every packet
  // (keep-alive, expiry) and needs no finer resolution.
  TimePoint now() const noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return TimePoint(std::chrono::duration_cast<Clock::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }

  // The other workers, for session takeover and forwarding; set before start().
  void set_peers(std::vector<Worker*> peers);
  void start();
  // Sends every MQTT 5 client DISCONNECT 0x8B, closes all connections and stops the
  // loop once their output is flushed (or after a short grace period).
  void shutdown();
  void join();

  // From any thread: runs `task` on this worker.
  void post(std::function<void(Worker&)> task);
  // On the worker's thread: runs `task` on it at `due` (or soon after). One timer on
  // the loop serves them all, so a waiting connection costs a heap entry, not a timer.
  void run_at(TimePoint due, std::function<void()> task);
  // Runs `task` on worker `worker` (inline when it is this one).
  void post_to(std::uint32_t worker, std::function<void(Worker&)> task);
  // From any thread (the router): deliveries for sessions this worker owns.
  void dispatch(std::vector<Delivery>&& batch);
  // From another worker: deliveries routed to it for a session that has since moved
  // here, passed on in the order that worker received them.
  void forward(std::vector<Delivery>&& batch);

  // --- on the worker's thread ----------------------------------------------------
  // True while a worker this one hands deliveries to has too many waiting: this
  // worker's connections stop reading until it catches up, so the publishers feel
  // TCP back-pressure instead of the broker queueing without bound.
  bool throttled() const noexcept { return throttled_; }
  // A connection that wanted to read while throttled: read again once unthrottled.
  void stall(std::weak_ptr<Connection> connection);
  void adopt(std::shared_ptr<Connection> connection);
  void forget(Connection& connection);
  // `forwarded`: the batch comes from a session's previous owner (see Arrival).
  void deliver(std::vector<Delivery>& batch, bool forwarded = false);

  // Finds or takes over the session of `client_id` for `connection`; answers with
  // connection.on_session_ready(), possibly after a round trip to another worker.
  void open_session(Connection& connection, const std::string& client_id, bool clean_start);
  // The connection of `session` closed; `will` is published now or after its delay
  // unless the session is resumed first [MQTT-3.1.3-9].
  void session_disconnected(Session& session, MessagePtr will, std::uint32_t will_delay);
  // A connection of `handle`'s session closed (the session was detached then): the
  // Will and a session that ends at once are dealt with here, if nothing resumed it.
  void session_closed(const SessionHandlePtr& handle, MessagePtr will, std::uint32_t will_delay);
  // The session resumed: a Will still waiting for its delay is not sent [MQTT-3.1.3-9].
  void cancel_pending_will(Session& session);
  void subscribe(Session& session, std::string_view filter, const codec::SubscribeOptions& options,
                 std::uint32_t identifier, bool& existed);
  bool unsubscribe(Session& session, std::string_view filter);
  void publish(const MessagePtr& message);
  // Publishes a Will, its Message Expiry Interval counted from now.
  void publish_will(const MessagePtr& will);

 private:
  struct Task {
    std::vector<Delivery> deliveries;
    std::function<void(Worker&)> run;
    bool forwarded = false;
  };
  // A session on its way here from another worker. Deliveries routed to the old
  // owner before the move reach this worker through it (`forwarded`); deliveries
  // routed here since the move come straight from the publishers' workers and may
  // overtake them. So the straight ones wait until the old owner says that nothing
  // routed to it is still on its way (`cleared`, see fence_move): each publisher's
  // messages then go out in the order it sent them [MQTT-4.6.0-5].
  struct Arrival {
    std::unique_ptr<Session> session;
    bool parcel = false;   // the session, or word that it ended, has come
    bool cleared = false;  // the old owner has passed on everything routed to it
    std::vector<Delivery> forwarded;
    std::vector<Delivery> direct;
  };
  struct PendingWill {
    MessagePtr message;
    TimePoint due;
  };
  struct Waiting {  // a connection waiting for its session to arrive from another worker
    std::weak_ptr<Connection> connection;
    bool clean_start;
  };

  void enqueue(Task task, bool bounded = true);
  // Batched hand-off (DESIGN.md): deliveries for another worker found while this
  // one runs are gathered and handed over once per loop turn, in one inbox push.
  void stage(std::uint32_t target, std::vector<Delivery>&& batch);
  void hand_off();
  void unthrottle();
  void wake_throttled_peers();
  void drain_inbox();
  void schedule_tick();
  void tick();
  void arm_timers();
  void run_due_timers();
  void end_session(SessionHandle* handle);
  void install_session(std::unique_ptr<Session> session);
  void take_over_here(const SessionHandlePtr& handle, std::uint32_t to_worker, bool clean_start);
  // The session (null when it ended) has come; `cleared` when no fence is needed.
  void receive_session(const SessionHandlePtr& handle, std::unique_ptr<Session> session,
                       bool cleared);
  void session_cleared(const SessionHandlePtr& handle);
  void finish_arrival(const SessionHandlePtr& handle);
  // After a session left this worker for `to`: asks every other worker to finish
  // what it routed here, then tells `to` the session is cleared.
  void fence_move(const SessionHandlePtr& handle, std::uint32_t to);
  Session* local_session(SessionHandle* handle);

  std::uint32_t index_;
  const Config& config_;
  Router& router_;
  AuthHooks& auth_;
  boost::asio::io_context io_;
  boost::asio::steady_timer tick_timer_;
  std::thread thread_;
  std::vector<Worker*> peers_;
  Inbox<Task> inbox_;
  std::vector<Task> drained_;
  std::size_t next_drained_ = 0;  // drained_[next_drained_..] wait for a later turn
  static constexpr std::size_t drain_budget = 4096;  // deliveries per loop turn
  // Deliveries pushed into inbox_ and not yet delivered (any thread adds, this
  // worker subtracts). Above the high mark, producers throttle themselves; below the
  // low mark, those waiting (waiting_for_drain_[i]) are told to go on.
  static constexpr std::size_t inbox_high_mark = 32 * 1024;
  static constexpr std::size_t inbox_low_mark = 8 * 1024;
  std::atomic<std::size_t> queued_deliveries_{0};
  std::atomic<bool> any_waiting_for_drain_{false};
  std::unique_ptr<std::atomic<bool>[]> waiting_for_drain_;
  std::vector<std::vector<Delivery>> outgoing_;  // per worker, see stage()
  bool hand_off_scheduled_ = false;
  bool throttled_ = false;
  std::vector<std::weak_ptr<Connection>> stalled_;
  bool stopping_ = false;

  // Every connection this worker accepted and has not closed, each at its
  // worker_slot(): removal swaps the last one in. A vector costs 16 bytes a connection
  // (a hash set node and bucket cost 40; docs/performance.md, idle memory).
  std::vector<std::shared_ptr<Connection>> connections_;
  std::unordered_map<SessionHandle*, std::unique_ptr<Session>> sessions_;
  // Sessions on their way here from another worker: deliveries that arrive first
  // wait, and so does the connection that asked for the session.
  std::unordered_map<SessionHandle*, Arrival> arriving_;
  std::unordered_map<SessionHandle*, Waiting> waiting_;
  // Takeovers asked of a session that is still arriving here: run once it arrives.
  std::unordered_map<SessionHandle*, std::vector<std::pair<std::uint32_t, bool>>> deferred_;
  std::unordered_map<SessionHandle*, PendingWill> pending_wills_;
  struct Timed {
    TimePoint due;
    std::uint64_t order;  // first come, first run among equal times
    std::function<void()> task;
    bool operator>(const Timed& other) const {
      return due != other.due ? due > other.due : order > other.order;
    }
  };
  std::priority_queue<Timed, std::vector<Timed>, std::greater<>> timers_;
  std::uint64_t timer_order_ = 0;
  boost::asio::steady_timer run_at_timer_;
  std::optional<TimePoint> run_at_armed_;  // when run_at_timer_ fires, if it waits
  WorkerStats stats_;
  SessionEnv session_env_;  // shared by this worker's sessions
};

}  // namespace cicada::broker
