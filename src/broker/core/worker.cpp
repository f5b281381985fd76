// The worker's loop: inbox, deliveries, the once-a-second tick, and shutdown.
#include "worker.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <string>

#include "connection.hpp"

namespace cicada::broker {
namespace {
thread_local Worker* current_worker = nullptr;
}  // namespace

Worker::Worker(std::uint32_t index, const Config& config, Router& router, AuthHooks& auth)
    : index_(index),
      config_(config),
      router_(router),
      auth_(auth),
      io_(1),
      tick_timer_(io_),
      run_at_timer_(io_) {
  session_env_.limits = {.max_mqueue_len = config_.max_mqueue_len,
                         .mqueue_store_qos0 = config_.mqueue_store_qos0,
                         .max_awaiting_rel = config_.max_awaiting_rel};
}

Worker::~Worker() {
  join();
}

void Worker::set_peers(std::vector<Worker*> peers) {
  peers_ = std::move(peers);
  outgoing_.resize(peers_.size());
  waiting_for_drain_ = std::make_unique<std::atomic<bool>[]>(peers_.size());
}

void Worker::start() {
  thread_ = std::thread([this] {
    // Named, so top -H, perf and gdb tell the workers apart (15 characters at most).
    const std::string name = "cicada-w" + std::to_string(index_);
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
    current_worker = this;
    auto guard = boost::asio::make_work_guard(io_);
    schedule_tick();
    io_.run();
    current_worker = nullptr;
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::shutdown() {
  post([](Worker& self) {
    self.stopping_ = true;
    std::vector<std::shared_ptr<Connection>> all(self.connections_.begin(),
                                                 self.connections_.end());
    // [MQTT-3.14.2] MQTT 5 clients learn why: 0x8B Server shutting down.
    for (auto& connection : all) {
      connection->close("server shutting down", codec::ReasonCode::server_shutting_down);
    }
    if (self.connections_.empty()) {
      self.io_.stop();
      return;
    }
    // Connections whose peers do not read are not waited for long.
    self.tick_timer_.expires_after(std::chrono::milliseconds(500));
    self.tick_timer_.async_wait([&self](const boost::system::error_code&) { self.io_.stop(); });
  });
}

void Worker::post(std::function<void(Worker&)> task) {
  // Control tasks (sessions moving, fences) are never refused: losing one would
  // strand a session. They are few; the bound is for deliveries.
  enqueue(Task{{}, std::move(task)}, /*bounded=*/false);
}

void Worker::run_at(TimePoint due, std::function<void()> task) {
  timers_.push(Timed{due, timer_order_++, std::move(task)});
  arm_timers();
}

void Worker::arm_timers() {
  if (timers_.empty() || stopping_) return;
  const TimePoint due = timers_.top().due;
  if (run_at_armed_ && *run_at_armed_ <= due) return;
  // Re-arming cancels the wait for a later time; its handler sees operation_aborted.
  run_at_armed_ = due;
  run_at_timer_.expires_at(due);
  run_at_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error == boost::asio::error::operation_aborted) return;
    run_at_armed_.reset();
    run_due_timers();
  });
}

void Worker::run_due_timers() {
  const TimePoint now = Clock::now();
  // Tasks may add timers; those due now run on the next turn, after I/O.
  std::vector<std::function<void()>> due;
  while (!timers_.empty() && timers_.top().due <= now) {
    due.push_back(std::move(const_cast<Timed&>(timers_.top()).task));
    timers_.pop();
  }
  for (auto& task : due)
    task();
  arm_timers();
}

void Worker::post_to(std::uint32_t worker, std::function<void(Worker&)> task) {
  if (worker == index_) {
    task(*this);
  } else {
    peers_.at(worker)->post(std::move(task));
  }
}

void Worker::dispatch(std::vector<Delivery>&& batch) {
  // Deliveries for this worker's own sessions, found while it handles a PUBLISH,
  // go out at once: no queue, no wake-up.
  if (current_worker == this) {
    deliver(batch);
    return;
  }
  // Found by another worker: it hands them over with everything else it found for
  // this one during its loop turn.
  if (current_worker != nullptr) {
    current_worker->stage(index_, std::move(batch));
    return;
  }
  enqueue(Task{std::move(batch), {}});
}

void Worker::forward(std::vector<Delivery>&& batch) {
  enqueue(Task{std::move(batch), {}, /*forwarded=*/true});
}

void Worker::stage(std::uint32_t target, std::vector<Delivery>&& batch) {
  std::vector<Delivery>& out = outgoing_[target];
  if (out.empty()) {
    out.swap(batch);  // the caller keeps an empty vector with capacity to reuse
  } else {
    out.insert(out.end(), std::make_move_iterator(batch.begin()),
               std::make_move_iterator(batch.end()));
  }
  if (hand_off_scheduled_) return;
  hand_off_scheduled_ = true;
  // Posted behind the handlers already due, so one hand-off carries what all of
  // them found.
  boost::asio::post(io_, [this] { hand_off(); });
}

void Worker::hand_off() {
  hand_off_scheduled_ = false;
  for (std::uint32_t target = 0; target < outgoing_.size(); ++target) {
    std::vector<Delivery>& out = outgoing_[target];
    if (out.empty()) continue;
    Worker& peer = *peers_[target];
    peer.enqueue(Task{std::move(out), {}});
    out.clear();
    if (peer.queued_deliveries_.load(std::memory_order_relaxed) <= inbox_high_mark) continue;
    throttled_ = true;
    peer.waiting_for_drain_[index_].store(true, std::memory_order_seq_cst);
    peer.any_waiting_for_drain_.store(true, std::memory_order_seq_cst);
    // The peer may have drained between the check and the mark: look again, so a
    // wake-up is never missed.
    if (peer.queued_deliveries_.load(std::memory_order_seq_cst) <= inbox_low_mark) {
      throttled_ = false;
    }
  }
}

void Worker::stall(std::weak_ptr<Connection> connection) {
  stalled_.push_back(std::move(connection));
}

void Worker::unthrottle() {
  if (!throttled_) return;
  throttled_ = false;
  std::vector<std::weak_ptr<Connection>> stalled;
  stalled.swap(stalled_);
  for (auto& weak : stalled) {
    if (auto connection = weak.lock()) connection->resume_after_stall();
  }
}

void Worker::wake_throttled_peers() {
  if (!any_waiting_for_drain_.load(std::memory_order_seq_cst)) return;
  if (queued_deliveries_.load(std::memory_order_seq_cst) > inbox_low_mark) return;
  any_waiting_for_drain_.store(false, std::memory_order_seq_cst);
  for (std::uint32_t i = 0; i < peers_.size(); ++i) {
    if (waiting_for_drain_[i].exchange(false, std::memory_order_seq_cst)) {
      peers_[i]->post([](Worker& self) { self.unthrottle(); });
    }
  }
}

void Worker::enqueue(Task task, bool bounded) {
  const std::size_t deliveries = task.deliveries.size();
  queued_deliveries_.fetch_add(deliveries, std::memory_order_relaxed);
  switch (inbox_.push(std::move(task), bounded)) {
    case Inbox<Task>::PushResult::woke:
      boost::asio::post(io_, [this] { drain_inbox(); });
      break;
    case Inbox<Task>::PushResult::queued:
      break;
    case Inbox<Task>::PushResult::full:
      queued_deliveries_.fetch_sub(deliveries, std::memory_order_relaxed);
      stats_.inbox_full_drops.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

void Worker::drain_inbox() {
  // A bounded share per loop turn, so sockets (a subscriber's acknowledgements, its
  // writes) are served between slices of a large backlog; the rest runs on a later
  // turn, in order.
  std::size_t budget = drain_budget;
  while (budget > 0) {
    if (next_drained_ == drained_.size()) {
      inbox_.drain(drained_);  // clears drained_ first
      next_drained_ = 0;
      if (drained_.empty()) break;  // empty: the next push wakes the loop again
    }
    Task& task = drained_[next_drained_++];
    if (task.run) {
      task.run(*this);
      --budget;
    } else {
      deliver(task.deliveries, task.forwarded);
      budget -= std::min(budget, std::max<std::size_t>(task.deliveries.size(), 1));
      queued_deliveries_.fetch_sub(task.deliveries.size(), std::memory_order_seq_cst);
    }
    task = Task{};
  }
  if (budget == 0) boost::asio::post(io_, [this] { drain_inbox(); });
  wake_throttled_peers();
}

void Worker::deliver(std::vector<Delivery>& batch, bool forwarded) {
  const TimePoint now = this->now();
  std::unordered_map<std::uint32_t, std::vector<Delivery>> elsewhere;
  for (Delivery& delivery : batch) {
    SessionHandle* handle = delivery.session.get();
    if (auto arriving = arriving_.find(handle); arriving != arriving_.end()) {
      Arrival& arrival = arriving->second;
      (forwarded ? arrival.forwarded : arrival.direct).push_back(std::move(delivery));
    } else if (Session* session = local_session(handle)) {
      session->deliver(delivery.message, std::move(delivery.options), now);
    } else if (std::uint32_t owner = handle->worker.load(std::memory_order_acquire);
               owner != index_) {
      // The session moved while the delivery was on its way: follow it.
      elsewhere[owner].push_back(std::move(delivery));
    }
    // Otherwise the session ended: nothing is owed to it.
  }
  for (auto& [owner, deliveries] : elsewhere)
    peers_.at(owner)->forward(std::move(deliveries));
}

void Worker::adopt(std::shared_ptr<Connection> connection) {
  stats_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
  connection->set_worker_slot(static_cast<std::uint32_t>(connections_.size()));
  connections_.push_back(std::move(connection));
}

void Worker::forget(Connection& connection) {
  stats_.connections_closed.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t slot = connection.worker_slot();
  if (slot < connections_.size() && connections_[slot].get() == &connection) {
    const std::shared_ptr<Connection> self = std::move(connections_[slot]);  // alive till the end
    if (slot + 1 != connections_.size()) {
      connections_[slot] = std::move(connections_.back());
      connections_[slot]->set_worker_slot(slot);
    }
    connections_.pop_back();
    // After a peak of connections the list gives its memory back: nothing stays at its
    // high-water mark for ever. A quarter, so a count moving around one size never
    // reallocates back and forth.
    if (connections_.capacity() > 1024 && connections_.size() < connections_.capacity() / 4) {
      connections_.shrink_to_fit();
    }
  }
  if (stopping_ && connections_.empty()) io_.stop();
}

void Worker::schedule_tick() {
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    tick();
    schedule_tick();
  });
}

void Worker::tick() {
  const TimePoint now = this->now();
  std::vector<std::shared_ptr<Connection>> all(connections_.begin(), connections_.end());
  for (auto& connection : all)
    connection->tick(now);

  std::vector<SessionHandle*> expired;
  const TimePoint stale = now - std::chrono::seconds(config_.await_rel_timeout);
  for (auto& [handle, session] : sessions_) {
    session->drop_unreleased_before(stale);
    session->release_idle_state();  // exchanges all done: give their tables back
    if (!session->online() && session->expires_at() && *session->expires_at() <= now) {
      expired.push_back(handle);
    }
  }
  for (SessionHandle* handle : expired) {
    stats_.sessions_expired.fetch_add(1, std::memory_order_relaxed);
    end_session(handle);
  }

  std::vector<MessagePtr> due;
  for (auto it = pending_wills_.begin(); it != pending_wills_.end();) {
    if (it->second.due <= now) {
      due.push_back(std::move(it->second.message));
      it = pending_wills_.erase(it);
    } else {
      ++it;
    }
  }
  for (const MessagePtr& will : due)
    publish_will(will);
}

void Worker::publish(const MessagePtr& message) {
  router_.publish(message, index_);
}

void Worker::publish_will(const MessagePtr& will) {
  const auto& interval = will->properties.message_expiry_interval;
  if (!interval || will->expires_at) return publish(will);
  // The Will's Message Expiry Interval counts from its publication, not from the
  // CONNECT that carried it (MQTT 5.0 3.1.3.2.4, [MQTT-3.3.2-6]).
  auto stamped = std::make_shared<Message>(*will);
  stamped->expires_at = now() + std::chrono::seconds(*interval);
  publish(stamped);
}

}  // namespace cicada::broker
