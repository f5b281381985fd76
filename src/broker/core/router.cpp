#include "router.hpp"

#include <algorithm>
#include <optional>
#include <random>
#include <unordered_map>

namespace cicada::broker {
namespace {

using codec::QoS;

struct Match {
  topic::SubscriptionEntry entry;
  bool shared;
};

QoS max_qos_of(std::uint8_t options) {
  return static_cast<QoS>(options & 0x03);
}
bool no_local(std::uint8_t options) {
  return (options & 0x04) != 0;
}
bool retain_as_published(std::uint8_t options) {
  return (options & 0x08) != 0;
}

std::uint64_t group_key(std::string_view group, std::string_view filter) {
  std::hash<std::string_view> hash;
  return hash(group) * 31 + hash(filter);
}

// Picks the member of a shared group that receives this message. Round robin and
// sticky state is per worker thread, so picking takes no lock.
const topic::SubscriptionEntry& pick_member(SharedStrategy strategy, std::string_view group,
                                            std::string_view filter,
                                            std::span<const topic::SubscriptionEntry> members,
                                            const Message& message) {
  thread_local std::unordered_map<std::uint64_t, std::uint64_t> state;
  thread_local std::minstd_rand random{std::random_device{}()};
  const std::size_t n = members.size();
  // Bounded: groups come and go; losing the round-robin position now and then is fine.
  if (state.size() > 65536) state.clear();
  switch (strategy) {
    case SharedStrategy::round_robin:
      return members[state[group_key(group, filter)]++ % n];
    case SharedStrategy::random:
      return members[random() % n];
    case SharedStrategy::hash_clientid:
      // The publisher's session id stands for its client id: equal for one client.
      return members[std::hash<std::uint64_t>{}(message.publisher) % n];
    case SharedStrategy::hash_topic:
      return members[std::hash<std::string_view>{}(message.topic) % n];
    case SharedStrategy::sticky: {
      std::uint64_t& chosen = state[group_key(group, filter)];
      for (const auto& member : members) {
        if (member.subscriber == chosen) return member;
      }
      const auto& member = members[random() % n];
      chosen = member.subscriber;
      return member;
    }
  }
  return members[0];
}

}  // namespace

Router::Router(const Config& config, std::uint32_t workers, Dispatch dispatch)
    : config_(config),
      workers_(workers),
      dispatch_(std::move(dispatch)),
      trie_mutex_(workers),
      published_(std::make_unique<Counter[]>(workers)) {}

std::uint64_t Router::published() const noexcept {
  std::uint64_t sum = 0;
  for (std::uint32_t i = 0; i < workers_; ++i)
    sum += published_[i].value.load(std::memory_order_relaxed);
  return sum;
}

void Router::publish(const MessagePtr& message, std::uint32_t from) {
  // Only worker `from` writes its counter: a plain load and store, no locked add.
  std::atomic<std::uint64_t>& published = published_[from % workers_].value;
  published.store(published.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (message->retain && config_.retainer_enable && config_.retain_available) {
    store_retained(message);
  }

  // Per-thread scratch space: routing a message allocates nothing in the steady
  // state (the vectors keep their capacity from one message to the next).
  struct Scratch {
    std::vector<Match> matches;
    std::vector<SessionHandlePtr> handles;
    std::vector<std::shared_ptr<const std::string>> shared_names;  // per match; null if not
    std::vector<std::size_t> order;
    std::vector<std::vector<Delivery>> batches;
  };
  thread_local Scratch reused;
  thread_local bool in_use = false;
  // Should a delivery ever publish in turn, it must not clobber ours. Built only then:
  // five empty vectors zeroed on every PUBLISH showed in perf.
  std::optional<Scratch> nested;
  Scratch& scratch = in_use ? nested.emplace() : reused;
  struct Use {
    bool& flag;
    bool was;
    ~Use() { flag = was; }
  } use{in_use, in_use};
  in_use = true;
  auto& matches = scratch.matches;
  auto& handles = scratch.handles;
  auto& shared_names = scratch.shared_names;
  matches.clear();
  shared_names.clear();
  {
    StripedSharedMutex::SharedLock lock(trie_mutex_, from);
    trie_.match(
        message->topic,
        [&](const topic::SubscriptionEntry& entry) {
          matches.push_back({entry, false});
        },
        [&](std::string_view group, std::string_view filter,
            std::span<const topic::SubscriptionEntry> members) {
          if (members.empty()) return;
          shared_names.resize(matches.size() + 1);
          shared_names.back() = std::make_shared<const std::string>(
              std::string("$share/").append(group).append("/").append(filter));
          matches.push_back(
              {pick_member(config_.shared_subscription_strategy, group, filter, members, *message),
               true});
        });
    // Handles stay alive while they are in the trie, and leave it only under the
    // exclusive lock, so taking references here is safe.
    handles.clear();
    for (const Match& match : matches) {
      handles.push_back(SessionHandle::from_id(match.entry.subscriber)->shared_from_this());
    }
  }
  if (matches.empty()) return;
  shared_names.resize(matches.size());

  // Order: non-shared matches grouped by subscriber, so a session's overlapping
  // subscriptions merge into one delivery [MQTT-3.3.4-2].
  auto& order = scratch.order;
  order.resize(matches.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  if (matches.size() > 1) {
    // Ties keep match order (compared by index): a stable sort without stable_sort's
    // temporary buffer.
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (matches[a].shared != matches[b].shared) return !matches[a].shared;
      if (matches[a].entry.subscriber != matches[b].entry.subscriber) {
        return matches[a].entry.subscriber < matches[b].entry.subscriber;
      }
      return a < b;
    });
  }

  auto& batches = scratch.batches;
  batches.resize(workers_);
  auto add = [&](std::size_t index, DeliveryOptions options) {
    SessionHandlePtr& handle = handles[index];
    std::uint32_t worker = handle->worker.load(std::memory_order_acquire) % workers_;
    batches[worker].push_back({std::move(handle), message, std::move(options)});
  };

  for (std::size_t i = 0; i < order.size();) {
    const Match& first = matches[order[i]];
    if (first.shared) {
      // [MQTT-4.8.2-3] one member of the group gets the message; shared subscriptions
      // are delivered independently of the member's other subscriptions.
      const auto& entry = first.entry;
      DeliveryOptions options{.qos = std::min(message->qos, max_qos_of(entry.options)),
                              .retain = retain_as_published(entry.options) && message->retain};
      if (entry.identifier != 0) options.subscription_ids.push_back(entry.identifier);
      options.shared_subscription = std::move(shared_names[order[i]]);
      add(order[i], std::move(options));
      ++i;
      continue;
    }
    DeliveryOptions options;
    bool any = false;
    std::size_t representative = order[i];
    const std::uint64_t subscriber = first.entry.subscriber;
    for (; i < order.size() && !matches[order[i]].shared &&
           matches[order[i]].entry.subscriber == subscriber;
         ++i) {
      const auto& entry = matches[order[i]].entry;
      // [MQTT-3.8.3-3] No Local: not to the session that published it.
      if (no_local(entry.options) && subscriber == message->publisher) continue;
      any = true;
      options.qos = std::max(options.qos, max_qos_of(entry.options));
      // [MQTT-3.3.1-12] [MQTT-3.3.1-13] Retain As Published keeps the flag.
      options.retain = options.retain || (retain_as_published(entry.options) && message->retain);
      if (entry.identifier != 0) options.subscription_ids.push_back(entry.identifier);
    }
    if (!any) continue;
    // [MQTT-3.8.4-8] the QoS sent is the lower of the message's and the subscription's.
    options.qos = std::min(options.qos, message->qos);
    add(representative, std::move(options));
  }
  handles.clear();

  for (std::uint32_t worker = 0; worker < workers_; ++worker) {
    // The receiver takes the deliveries; the emptied vector is reused.
    if (!batches[worker].empty()) dispatch_(worker, std::move(batches[worker]));
    batches[worker].clear();
  }
}

void Router::redispatch_shared(const MessagePtr& message, const std::string& shared_subscription) {
  auto shared = topic::parse_shared(shared_subscription);
  if (!shared) return;
  std::optional<Delivery> delivery;
  {
    StripedSharedMutex::SharedLock lock(trie_mutex_, 0);
    trie_.match(
        message->topic, [](const topic::SubscriptionEntry&) {},
        [&](std::string_view group, std::string_view filter,
            std::span<const topic::SubscriptionEntry> members) {
          if (delivery || members.empty() || group != shared->group || filter != shared->filter) {
            return;
          }
          const auto& entry =
              pick_member(config_.shared_subscription_strategy, group, filter, members, *message);
          DeliveryOptions options{.qos = std::min(message->qos, max_qos_of(entry.options)),
                                  .retain = retain_as_published(entry.options) && message->retain};
          if (entry.identifier != 0) options.subscription_ids.push_back(entry.identifier);
          options.shared_subscription = std::make_shared<const std::string>(shared_subscription);
          delivery = Delivery{SessionHandle::from_id(entry.subscriber)->shared_from_this(), message,
                              std::move(options)};
        });
  }
  // No member left: the message is dropped, as for any topic without subscribers.
  if (!delivery) return;
  std::uint32_t worker = delivery->session->worker.load(std::memory_order_acquire) % workers_;
  std::vector<Delivery> batch;
  batch.push_back(std::move(*delivery));
  dispatch_(worker, std::move(batch));
}

void Router::store_retained(const MessagePtr& message) {
  std::lock_guard lock(retained_mutex_);
  auto previous_bytes = [&] {
    const MessagePtr* previous = retained_.find(message->topic);
    return previous ? (*previous)->payload.size() : 0;
  };
  // [MQTT-3.3.1-6] a zero-byte retained message removes the retained message.
  if (message->payload.empty()) {
    retained_bytes_ -= previous_bytes();
    retained_.erase(message->topic);
    return;
  }
  if (message->payload.size() > config_.retainer_max_payload_size) {
    stats_.retained_refused_payload_size.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::size_t replaced = previous_bytes();
  const bool replacing = retained_.find(message->topic) != nullptr;
  if (!replacing && config_.retainer_max_retained_messages != 0 &&
      retained_.size() >= config_.retainer_max_retained_messages) {
    stats_.retained_refused_count.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (config_.retainer_max_bytes != 0 &&
      retained_bytes_ - replaced + message->payload.size() > config_.retainer_max_bytes) {
    stats_.retained_refused_bytes.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // [MQTT-3.3.1-5] store it, replacing any previous one; a compact copy so it does
  // not pin the publisher's receive buffer.
  retained_bytes_ = retained_bytes_ - replaced + message->payload.size();
  retained_.insert(message->topic, compact(*message));
}

std::vector<MessagePtr> Router::retained_for(std::string_view filter, std::size_t limit) const {
  std::vector<MessagePtr> out;
  if (limit == 0) return out;
  std::lock_guard lock(retained_mutex_);
  retained_.match(filter, [&](std::string_view, const MessagePtr& message) {
    out.push_back(message);
    return out.size() < limit;
  });
  return out;
}

std::size_t Router::retained_count() const {
  std::lock_guard lock(retained_mutex_);
  return retained_.size();
}

bool Router::subscribe(std::string_view filter, const topic::SubscriptionEntry& entry) {
  std::unique_lock lock(trie_mutex_);
  return trie_.subscribe(filter, entry);
}

bool Router::unsubscribe(std::string_view filter, std::uint64_t subscriber) {
  std::unique_lock lock(trie_mutex_);
  return trie_.unsubscribe(filter, subscriber);
}

std::size_t Router::subscription_count() const {
  StripedSharedMutex::SharedLock lock(trie_mutex_, 0);
  return trie_.size();
}

Router::Claim Router::claim(const std::string& client_id, std::uint32_t worker) {
  std::lock_guard lock(registry_mutex_);
  auto it = registry_.find(std::string_view(client_id));
  if (it == registry_.end()) {
    auto handle = std::make_shared<SessionHandle>(client_id, worker);
    registry_.insert(handle);
    return {handle, false};
  }
  ++(*it)->takeovers;
  return {*it, true};
}

void Router::takeover_finished(const SessionHandlePtr& handle) {
  std::lock_guard lock(registry_mutex_);
  auto it = registry_.find(std::string_view(handle->client_id));
  if (it != registry_.end() && *it == handle && handle->takeovers > 0) --handle->takeovers;
}

bool Router::release(const SessionHandlePtr& handle) {
  std::lock_guard lock(registry_mutex_);
  auto it = registry_.find(std::string_view(handle->client_id));
  if (it == registry_.end() || *it != handle) return true;
  if (handle->takeovers > 0) return false;
  registry_.erase(it);
  return true;
}

std::size_t Router::session_count() const {
  std::lock_guard lock(registry_mutex_);
  return registry_.size();
}

}  // namespace cicada::broker
