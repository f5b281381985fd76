// The client's side of the file store: loading stored messages into the in-flight
// list and offline queue at construction, and keeping each message's file in step
// with its state. I/O thread only, except open_store() (constructor, before the
// threads run).
#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>

#include "client_impl.hpp"
#include "store_record.hpp"

namespace cicada::client {

void ClientImpl::open_store() {
  const auto& o = options_;
  if (o.store.directory.empty()) return;
  // [MQTT-3.1.2-4] clean start discards the session on both sides, and with it what
  // was in flight, so a store that survives restarts only makes sense without it.
  if (o.clean_start) {
    parse_error_ = "the file store needs clean_start = false (a persistent session)";
    return;
  }
  if (o.version == ProtocolVersion::v5 && o.session_expiry_interval.value_or(0) == 0) {
    parse_error_ = "the file store needs session_expiry_interval > 0 with MQTT 5";
    return;
  }
  FileStore::Loaded loaded;
  auto store = FileStore::open(o.store, o.client_id, loaded);
  if (!store) {
    parse_error_ = "file store: " + store.error();
    return;
  }
  store_ = std::move(*store);
  store_problems_ = std::move(loaded.problems);
  // In flight first, in publish order, with their packet ids, so the CONNACK
  // re-sends them as a resumed session expects [MQTT-4.4.0-1]; then the queue.
  // [MQTT-3.3.2-6] the Message Expiry Interval counts from when publish() accepted the
  // message, in the process that wrote the file: the wall-clock time it has waited
  // since is moved onto the steady clock remaining_expiry() reads. Bounded by the
  // largest interval there is, so a far-off time cannot overflow the clock.
  const auto now_unix = store::unix_seconds(std::chrono::system_clock::now());
  const auto now = std::chrono::steady_clock::now();
  for (auto& stored : loaded.messages) {
    Outgoing out{std::move(stored.message), {}, stored.packet_id, stored.released, stored.key};
    const std::uint64_t waited =
        std::min<std::uint64_t>(store::seconds_waited(stored.queued_at, now_unix), 0xFFFFFFFFu);
    out.created = now - std::chrono::seconds(waited);
    if (stored.packet_id != 0 && ids_in_use_.insert(stored.packet_id).second) {
      inflight_.push_back(std::move(out));
    } else {
      // A packet id seen twice cannot both be resumed; the later one goes out anew.
      if (stored.packet_id != 0) {
        if (auto moved = store_->sent(stored.key, stored.packet_id, 0); !moved)
          store_problems_.push_back(moved.error());
        out.packet_id = 0;
        out.released = false;
      }
      queue_.push_back(std::move(out));
    }
  }
}

void ClientImpl::store_problem(std::string text) {
  if (!on_store_error) return;
  asio::post(callbacks_, [this, t = std::move(text)] { on_store_error(t); });
}

void ClientImpl::assign_packet_id(Outgoing& out) {
  out.packet_id = allocate_packet_id();
  if (store_ && out.store_key != 0)
    if (auto r = store_->sent(out.store_key, 0, out.packet_id); !r) store_problem(r.error());
}

void ClientImpl::store_released(Outgoing& out) {
  if (store_ && out.store_key != 0)
    if (auto r = store_->released(out.store_key, out.packet_id); !r) store_problem(r.error());
}

void ClientImpl::forget_stored(Outgoing& out) {
  if (!store_ || out.store_key == 0) return;
  if (auto r = store_->remove(out.store_key, out.packet_id, out.released,
                              FileStore::charge(out.message));
      !r)
    store_problem(r.error());
  out.store_key = 0;
}

void ClientImpl::check_drained() {
  if (!inflight_.empty() || !queue_.empty()) return;
  for (auto& waiter : drain_waiters_)
    waiter.set_value();
  drain_waiters_.clear();
}

std::future<void> ClientImpl::drain() {
  std::promise<void> promise;
  auto future = promise.get_future();
  if (!started_ || shut_down_) {
    promise.set_value();
    return future;
  }
  asio::post(io_, [this, p = std::move(promise)]() mutable {
    drain_waiters_.push_back(std::move(p));
    check_drained();
  });
  return future;
}

}  // namespace cicada::client
