#include "session.hpp"

#include <algorithm>

namespace cicada::broker {

using codec::QoS;
using SendResult = SessionSink::SendResult;

Session::Session(SessionHandlePtr handle, SessionEnv& env)
    : handle_(std::move(handle)), env_(&env) {}

Session::Exchanges& Session::exchanges() {
  if (!exchanges_) exchanges_ = std::make_unique<Exchanges>();
  return *exchanges_;
}

void Session::release_idle_state() {
  if (exchanges_ && exchanges_->inflight.empty() && exchanges_->queue.empty() &&
      exchanges_->awaiting_rel.empty()) {
    exchanges_.reset();
  }
}

const Session::Subscriptions& Session::subscriptions() const noexcept {
  static const Subscriptions none;
  return subscriptions_ ? *subscriptions_ : none;
}

void Session::set_subscription(std::string_view filter, StoredSubscription subscription) {
  if (!subscriptions_) subscriptions_ = std::make_unique<Subscriptions>();
  (*subscriptions_)[std::string(filter)] = subscription;
}

void Session::erase_subscription(std::string_view filter) {
  if (!subscriptions_) return;
  if (auto it = subscriptions_->find(std::string(filter)); it != subscriptions_->end()) {
    subscriptions_->erase(it);
  }
  if (subscriptions_->empty()) subscriptions_.reset();
}

void Session::attach(SessionSink& sink, codec::ProtocolVersion version,
                     std::uint16_t receive_maximum, TimePoint now) {
  sink_ = &sink;
  version_ = version;
  receive_maximum_ = std::max<std::uint16_t>(receive_maximum, 1);
  expires_at_ = never;
  if (exchanges_) {
    exchanges_->outstanding = 0;
    for (auto& [id, entry] : exchanges_->inflight)
      entry.sent = false;
  }
  // [MQTT-4.4.0-1] unacknowledged PUBLISH (with DUP) and PUBREL packets are sent again,
  // within the new connection's Receive Maximum [MQTT-3.3.4-9].
  pump(now);
}

void Session::detach(TimePoint now) {
  sink_ = nullptr;
  if (exchanges_) exchanges_->outstanding = 0;
  // [MQTT-3.1.2-23] a session lives on for its Session Expiry Interval after the
  // connection closes; 0xFFFFFFFF means it does not expire.
  if (expiry_interval == 0xFFFFFFFF) {
    expires_at_ = never;
  } else {
    expires_at_ = now + std::chrono::seconds(expiry_interval);
  }
}

SendResult Session::send_now(const MessagePtr& message, const DeliveryOptions& options,
                             std::uint16_t packet_id, bool dup, bool resend, TimePoint now) {
  std::optional<std::uint32_t> remaining = remaining_expiry(*message, now);
  if (remaining && *remaining == 0) {
    // [MQTT-3.3.2-5] an expired message whose delivery has not started is deleted;
    // one already in flight is resent, its interval at the least the spec allows.
    if (!resend) {
      SessionStats::bump(env_->stats.dropped_expired);
      return SendResult::discarded;
    }
    remaining = 1;
  }
  codec::Publish publish{.dup = dup,
                         .qos = options.qos,
                         .retain = options.retain,
                         .topic = message->topic,
                         .packet_id = packet_id,
                         .payload = message->payload};
  if (version_ == codec::ProtocolVersion::v5) {
    if (!message->no_properties) publish.properties = message->properties;
    // [MQTT-3.3.2-6] the forwarded interval is what remains of it.
    if (remaining) publish.properties.message_expiry_interval = *remaining;
    // [MQTT-3.3.4-3] the identifiers of every matching subscription.
    if (!options.subscription_ids.empty() || !publish.properties.subscription_identifiers.empty()) {
      publish.properties.subscription_identifiers = options.subscription_ids;
    }
  }
  SendResult result = sink_->send_publish(publish, message);
  if (result == SendResult::sent) SessionStats::bump(env_->stats.delivered);
  if (result == SendResult::discarded) SessionStats::bump(env_->stats.dropped_by_connection);
  return result;
}

void Session::deliver(const MessagePtr& message, DeliveryOptions options, TimePoint now) {
  if (!online()) {
    enqueue(message, std::move(options));
    return;
  }
  if (options.qos == QoS::at_most_once) {
    send_now(message, options, 0, false, false, now);
    return;
  }
  // Keep order: nothing overtakes messages already waiting for the window.
  if (!window_open() || (exchanges_ && (!exchanges_->queue.empty() ||
                                        exchanges_->outstanding < exchanges_->inflight.size()))) {
    enqueue(message, std::move(options));
    pump(now);
    return;
  }
  std::uint16_t id = next_packet_id();
  SendResult result = send_now(message, options, id, false, false, now);
  if (result != SendResult::discarded) {
    bool sent = result == SendResult::sent;
    Exchanges& x = exchanges();
    x.inflight.emplace(id, Inflight{x.sequence++, message, std::move(options), false, sent});
    if (sent) ++x.outstanding;
  }
}

void Session::enqueue(const MessagePtr& message, DeliveryOptions options) {
  const bool qos0 = options.qos == QoS::at_most_once;
  if (qos0 && !online() && !env_->limits.mqueue_store_qos0) {
    SessionStats::bump(env_->stats.dropped_qos0_offline);
    return;
  }
  Exchanges& x = exchanges();
  auto& queue = x.queue;
  if (queue.size() >= env_->limits.max_mqueue_len) {
    // Full: the oldest QoS 0 message goes first (the arriving one counts as the
    // newest), then the oldest message.
    SessionStats::bump(env_->stats.dropped_queue_full);
    if (env_->limits.max_mqueue_len == 0) return;
    if (x.queued_qos0 > 0) {
      auto oldest_qos0 = std::find_if(queue.begin(), queue.end(), [](const Queued& q) {
        return q.options.qos == QoS::at_most_once;
      });
      queue.erase(oldest_qos0);
      --x.queued_qos0;
    } else if (qos0) {
      return;
    } else {
      queue.pop_front();
    }
  }
  if (qos0) ++x.queued_qos0;
  queue.push_back({message, std::move(options)});
}

bool Session::resend_waiting(TimePoint now) {
  if (!exchanges_) return true;
  Exchanges& x = *exchanges_;
  if (x.outstanding == x.inflight.size()) return true;
  std::vector<std::pair<std::uint64_t, std::uint16_t>> order;
  for (const auto& [id, entry] : x.inflight) {
    if (!entry.sent) order.emplace_back(entry.sequence, id);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [sequence, id] : order) {
    if (!online() || !window_open()) return false;
    auto it = x.inflight.find(id);
    Inflight& entry = it->second;
    if (entry.released) {
      sink_->send_packet(codec::Pubrel{.packet_id = id});
    } else {
      SendResult result = send_now(entry.message, entry.options, id, true, true, now);
      if (result == SendResult::overloaded) return false;
      if (result == SendResult::discarded) {
        x.inflight.erase(it);
        continue;
      }
    }
    entry.sent = true;
    ++x.outstanding;
  }
  return true;
}

void Session::pump(TimePoint now) {
  if (!online() || !resend_waiting(now) || !exchanges_) return;
  Exchanges& x = *exchanges_;
  while (online() && !x.queue.empty()) {
    Queued& next = x.queue.front();
    if (next.options.qos == QoS::at_most_once) {
      SendResult result = send_now(next.message, next.options, 0, false, false, now);
      if (result == SendResult::overloaded) return;
      x.queue.pop_front();
      --x.queued_qos0;
      continue;
    }
    if (!window_open()) return;
    std::uint16_t id = next_packet_id();
    SendResult result = send_now(next.message, next.options, id, false, false, now);
    if (result == SendResult::overloaded) return;
    if (result == SendResult::sent) {
      x.inflight.emplace(id, Inflight{x.sequence++, std::move(next.message),
                                      std::move(next.options), false, true});
      ++x.outstanding;
    }
    x.queue.pop_front();
  }
}

void Session::complete(std::map<std::uint16_t, Inflight>::iterator it, TimePoint now) {
  Exchanges& x = *exchanges_;
  if (it->second.sent && x.outstanding > 0) --x.outstanding;
  x.inflight.erase(it);
  pump(now);
}

bool Session::on_puback(std::uint16_t packet_id, TimePoint now) {
  if (!exchanges_) return false;
  auto it = exchanges_->inflight.find(packet_id);
  if (it == exchanges_->inflight.end() || it->second.options.qos != QoS::at_least_once)
    return false;
  complete(it, now);
  return true;
}

bool Session::on_pubrec(std::uint16_t packet_id, bool failed, TimePoint now) {
  if (!exchanges_) return false;
  auto it = exchanges_->inflight.find(packet_id);
  if (it == exchanges_->inflight.end() || it->second.options.qos != QoS::exactly_once) return false;
  if (failed) {
    complete(it, now);
    return true;
  }
  // [MQTT-4.3.3-4] answer PUBREC with PUBREL, and from now on only PUBREL is resent.
  it->second.released = true;
  it->second.message.reset();
  if (sink_ != nullptr) sink_->send_packet(codec::Pubrel{.packet_id = packet_id});
  return true;
}

bool Session::on_pubcomp(std::uint16_t packet_id, TimePoint now) {
  if (!exchanges_) return false;
  auto it = exchanges_->inflight.find(packet_id);
  if (it == exchanges_->inflight.end() || !it->second.released) return false;
  complete(it, now);
  return true;
}

Session::Qos2Arrival Session::receive_qos2(std::uint16_t packet_id, TimePoint now) {
  auto& awaiting = exchanges().awaiting_rel;
  if (awaiting.contains(packet_id)) return Qos2Arrival::duplicate;
  if (env_->limits.max_awaiting_rel != 0 && awaiting.size() >= env_->limits.max_awaiting_rel) {
    return Qos2Arrival::too_many;
  }
  awaiting.emplace(packet_id, now);
  return Qos2Arrival::first;
}

std::size_t Session::drop_unreleased_before(TimePoint cutoff) {
  if (!exchanges_) return 0;
  std::size_t dropped = std::erase_if(exchanges_->awaiting_rel,
                                      [&](const auto& entry) { return entry.second < cutoff; });
  SessionStats::bump(env_->stats.dropped_unreleased_qos2, dropped);
  return dropped;
}

bool Session::release_qos2(std::uint16_t packet_id) {
  return exchanges_ && exchanges_->awaiting_rel.erase(packet_id) != 0;
}

std::vector<std::pair<MessagePtr, DeliveryOptions>> Session::take_undelivered() {
  std::vector<std::pair<MessagePtr, DeliveryOptions>> out;
  if (!exchanges_) return out;
  Exchanges& x = *exchanges_;
  std::vector<std::pair<std::uint64_t, std::uint16_t>> order;
  for (const auto& [id, entry] : x.inflight) {
    if (!entry.released) order.emplace_back(entry.sequence, id);
  }
  std::sort(order.begin(), order.end());
  for (const auto& [sequence, id] : order) {
    auto& entry = x.inflight.at(id);
    out.emplace_back(std::move(entry.message), std::move(entry.options));
  }
  x.inflight.clear();
  x.outstanding = 0;
  for (auto& queued : x.queue)
    out.emplace_back(std::move(queued.message), std::move(queued.options));
  x.queue.clear();
  x.queued_qos0 = 0;
  return out;
}

std::uint16_t Session::next_packet_id() {
  // [MQTT-2.2.1-3] a non-zero id not in use by another exchange in this direction.
  do {
    last_packet_id_ =
        static_cast<std::uint16_t>(last_packet_id_ == 65535 ? 1 : last_packet_id_ + 1);
  } while (exchanges_ && exchanges_->inflight.contains(last_packet_id_));
  return last_packet_id_;
}

}  // namespace cicada::broker
