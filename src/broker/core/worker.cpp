// The worker's loop: inbox, deliveries, the once-a-second tick, and shutdown.
#include "worker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "connection.hpp"

namespace cicada::broker {
namespace {
thread_local Worker* current_worker = nullptr;
}  // namespace

Worker::Worker(std::uint32_t index, const Config& config, Router& router, AuthHooks& auth)
    : index_(index), config_(config), router_(router), auth_(auth), io_(1), tick_timer_(io_) {}

Worker::~Worker() {
  join();
}

void Worker::set_peers(std::vector<Worker*> peers) {
  peers_ = std::move(peers);
}

void Worker::start() {
  thread_ = std::thread([this] {
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
  enqueue(Task{std::move(batch), {}});
}

void Worker::forward(std::vector<Delivery>&& batch) {
  enqueue(Task{std::move(batch), {}, /*forwarded=*/true});
}

void Worker::enqueue(Task task, bool bounded) {
  switch (inbox_.push(std::move(task), bounded)) {
    case Inbox<Task>::PushResult::woke:
      boost::asio::post(io_, [this] { drain_inbox(); });
      break;
    case Inbox<Task>::PushResult::queued:
      break;
    case Inbox<Task>::PushResult::full:
      stats_.inbox_full_drops.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

void Worker::drain_inbox() {
  inbox_.drain(drained_);
  for (Task& task : drained_) {
    if (task.run) {
      task.run(*this);
    } else {
      deliver(task.deliveries, task.forwarded);
    }
  }
  drained_.clear();
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
  connections_.insert(std::move(connection));
}

void Worker::forget(Connection& connection) {
  stats_.connections_closed.fetch_add(1, std::memory_order_relaxed);
  auto self = connection.shared_from_this();
  connections_.erase(self);
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
    publish(will);
}

void Worker::publish(const MessagePtr& message) {
  router_.publish(message, index_);
}

}  // namespace cicada::broker
