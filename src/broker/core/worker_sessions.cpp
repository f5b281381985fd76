// Sessions on a worker: opening, takeover between workers by message exchange
// (never a shared lock on a session, DESIGN.md), disconnection, expiry and Wills.
#include <spdlog/spdlog.h>

#include "connection.hpp"
#include "worker.hpp"

namespace cicada::broker {

Session* Worker::local_session(SessionHandle* handle) {
  auto it = sessions_.find(handle);
  return it == sessions_.end() ? nullptr : it->second.get();
}

void Worker::install_session(std::unique_ptr<Session> session) {
  SessionHandle* handle = session->handle().get();
  handle->worker.store(index_, std::memory_order_release);
  session->move_to(session_env_);  // from now on it counts among this worker's
  sessions_[handle] = std::move(session);
}

void Worker::open_session(Connection& connection, const std::string& client_id, bool clean_start) {
  auto [handle, existed] = router_.claim(client_id, index_);
  if (!existed) {
    install_session(std::make_unique<Session>(handle, session_env_));
    connection.on_session_ready(*local_session(handle.get()), false);
    return;
  }
  SessionHandle* key = handle.get();
  // A connection that was still waiting for this session loses the race to this one.
  if (auto earlier = waiting_.find(key); earlier != waiting_.end()) {
    if (auto old = earlier->second.connection.lock()) old->kick_for_takeover(false);
  }
  waiting_[key] = Waiting{connection.weak_from_this(), clean_start};
  const std::uint32_t owner = handle->worker.load(std::memory_order_acquire);
  if (arriving_.contains(key)) {
    // Already on its way here for an earlier connection: on arrival it goes to the
    // one now in waiting_. That earlier request finishes the takeover for both.
    router_.takeover_finished(handle);
    return;
  }
  if (owner == index_) {
    take_over_here(handle, index_, clean_start);
    return;
  }
  arriving_.try_emplace(key);
  post_to(owner, [handle = handle, to = index_, clean_start](Worker& self) {
    self.take_over_here(handle, to, clean_start);
  });
}

void Worker::take_over_here(const SessionHandlePtr& handle, std::uint32_t to, bool clean_start) {
  SessionHandle* key = handle.get();
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    const std::uint32_t owner = handle->worker.load(std::memory_order_acquire);
    if (arriving_.contains(key) && owner == index_) {
      // Still on its way here from a third worker: a connection of another worker
      // takes it over once it arrives (one of this worker already waits in waiting_).
      if (to != index_) deferred_[key].emplace_back(to, clean_start);
    } else if (owner != index_) {
      post_to(owner, [handle, to, clean_start](Worker& self) {
        self.take_over_here(handle, to, clean_start);
      });
    } else {
      // The session ended meanwhile: the new connection starts a fresh one. Nothing
      // routed here for it is owed, so there is nothing to fence.
      post_to(to, [handle](Worker& self) { self.receive_session(handle, nullptr, true); });
    }
    return;
  }
  Session& session = *it->second;
  // A session without expiry ends with its connection (MQTT 5.0 3.1.2.11.2): if
  // that connection has closed and the end is merely not yet processed, there is
  // nothing to resume.
  const bool ended = !session.online() && session.expiry_interval == 0;
  // [MQTT-3.1.4-3] the existing connection of this client is closed (MQTT 5: 0x8E).
  if (auto* connection = dynamic_cast<Connection*>(session.sink())) {
    connection->kick_for_takeover(clean_start);
  }

  std::unique_ptr<Session> moving = std::move(it->second);
  sessions_.erase(it);
  if (auto will = pending_wills_.find(key); will != pending_wills_.end()) {
    // A delayed Will is cancelled when the session resumes [MQTT-3.1.3-9] and
    // published when the session ends.
    if (clean_start) publish_will(will->second.message);
    pending_wills_.erase(will);
  }
  if (clean_start || ended) {
    // [MQTT-3.1.2-4] Clean Start: the existing session is discarded.
    for (const auto& [filter, subscription] : moving->subscriptions()) {
      router_.unsubscribe(filter, key->id());
    }
    moving.reset();
  }
  handle->worker.store(to, std::memory_order_release);
  if (to == index_) {
    receive_session(handle, std::move(moving), true);
    return;
  }
  // std::function needs a copyable callable: the session travels in a shared_ptr.
  auto parcel = std::make_shared<std::unique_ptr<Session>>(std::move(moving));
  post_to(to, [handle, parcel](Worker& self) {
    self.receive_session(handle, std::move(*parcel), false);
  });
  fence_move(handle, to);
}

void Worker::fence_move(const SessionHandlePtr& handle, std::uint32_t to) {
  // A worker that read the old owner (this one) from the handle before the move
  // pushed its deliveries into this worker's inbox within the same task. Once it
  // has run a later task, its answer lands here behind them, and they have been
  // passed on to `to` (inboxes keep each producer's order). When every worker has
  // answered, `to` may deliver what was routed straight to it.
  auto remaining = std::make_shared<std::size_t>(0);
  for (Worker* peer : peers_)
    if (peer != this) ++*remaining;
  const std::uint32_t home = index_;
  for (Worker* peer : peers_) {
    if (peer == this) continue;
    peer->post([handle, home, to, remaining](Worker& other) {
      other.hand_off();  // what it gathered for `home` goes ahead of the answer
      other.post_to(home, [handle, to, remaining](Worker& self) {
        if (--*remaining > 0) return;
        self.post_to(to, [handle](Worker& next) { next.session_cleared(handle); });
      });
    });
  }
}

void Worker::receive_session(const SessionHandlePtr& handle, std::unique_ptr<Session> session,
                             bool cleared) {
  Arrival& arrival = arriving_[handle.get()];
  arrival.session = std::move(session);
  arrival.parcel = true;
  arrival.cleared = arrival.cleared || cleared;
  if (arrival.cleared) finish_arrival(handle);
}

void Worker::session_cleared(const SessionHandlePtr& handle) {
  auto it = arriving_.find(handle.get());
  if (it == arriving_.end()) return;
  it->second.cleared = true;
  if (it->second.parcel) finish_arrival(handle);
}

void Worker::finish_arrival(const SessionHandlePtr& handle) {
  SessionHandle* key = handle.get();
  auto node = arriving_.extract(key);
  Arrival arrival = std::move(node.mapped());
  std::unique_ptr<Session> session = std::move(arrival.session);
  router_.takeover_finished(handle);
  std::shared_ptr<Connection> connection;
  bool clean_start = false;
  if (auto it = waiting_.find(key); it != waiting_.end()) {
    connection = it->second.connection.lock();
    clean_start = it->second.clean_start;
    waiting_.erase(it);
  }
  if (session && clean_start) {
    // The connection that gets the session asked for a clean start [MQTT-3.1.2-4],
    // though the one that requested the move did not.
    for (const auto& [filter, subscription] : session->subscriptions()) {
      router_.unsubscribe(filter, key->id());
    }
    session.reset();
  }
  const bool present = session != nullptr;
  if (!session) session = std::make_unique<Session>(handle, session_env_);
  install_session(std::move(session));
  Session& installed = *local_session(key);

  if (connection && !connection->closed()) {
    connection->on_session_ready(installed, present);
  } else {
    installed.detach(now());
  }
  // What the old owner passed on was routed before anything routed straight here.
  deliver(arrival.forwarded);
  deliver(arrival.direct);

  if (auto deferred = deferred_.find(key); deferred != deferred_.end()) {
    auto requests = std::move(deferred->second);
    deferred_.erase(deferred);
    for (auto [to, clean] : requests)
      take_over_here(handle, to, clean);
  } else if (!installed.online() && installed.expiry_interval == 0) {
    end_session(key);
  }
}

void Worker::session_disconnected(Session& session, MessagePtr will, std::uint32_t will_delay) {
  session.detach(now());
  SessionHandle* key = session.handle().get();
  if (will) {
    const MessagePtr& message = will;
    // [MQTT-3.1.3-9] a delayed Will waits for its delay or the end of the session,
    // whichever comes first.
    std::uint32_t delay = std::min(will_delay, session.expiry_interval);
    if (delay == 0) {
      publish_will(message);
    } else {
      pending_wills_[key] = {message, now() + std::chrono::seconds(delay)};
    }
  }
  if (session.expiry_interval == 0) end_session(key);
}

void Worker::session_closed(const SessionHandlePtr& handle, MessagePtr will,
                            std::uint32_t will_delay) {
  Session* session = local_session(handle.get());
  if (session != nullptr && !session->online()) {
    session_disconnected(*session, std::move(will), will_delay);
    return;
  }
  // Resumed (or moved) meanwhile: a delayed Will is cancelled [MQTT-3.1.3-9]; one
  // without delay belonged to the closed connection and goes out.
  if (will && will_delay == 0) publish_will(will);
}

void Worker::end_session(SessionHandle* key) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  // A takeover of this session is under way: the new owner gets it as it is.
  if (!router_.release(it->second->handle())) return;
  std::unique_ptr<Session> ending = std::move(it->second);
  sessions_.erase(it);
  for (const auto& [filter, subscription] : ending->subscriptions()) {
    router_.unsubscribe(filter, key->id());
  }
  // Messages a shared subscription gave this session and it never received go to
  // another member of the group rather than being lost.
  for (auto& [message, options] : ending->take_undelivered()) {
    if (options.shared_subscription && message) {
      router_.redispatch_shared(message, *options.shared_subscription);
    }
  }
  if (auto will = pending_wills_.find(key); will != pending_wills_.end()) {
    publish_will(will->second.message);
    pending_wills_.erase(will);
  }
}

void Worker::cancel_pending_will(Session& session) {
  pending_wills_.erase(session.handle().get());
}

void Worker::subscribe(Session& session, std::string_view filter,
                       const codec::SubscribeOptions& options, std::uint32_t identifier,
                       bool& existed) {
  auto options_byte = static_cast<std::uint8_t>(
      static_cast<unsigned>(options.max_qos) | (options.no_local ? 0x04u : 0u) |
      (options.retain_as_published ? 0x08u : 0u) |
      (static_cast<unsigned>(options.retain_handling) << 4));
  bool added = router_.subscribe(
      filter,
      {.subscriber = session.handle()->id(), .options = options_byte, .identifier = identifier});
  existed = !added;
  session.set_subscription(filter, {options, identifier});
}

bool Worker::unsubscribe(Session& session, std::string_view filter) {
  session.erase_subscription(filter);
  return router_.unsubscribe(filter, session.handle()->id());
}

}  // namespace cicada::broker
