// Router: the state every worker shares: the subscription trie, the retained
// messages and the registry of sessions by client id. publish() matches a message
// against the trie once, merges a session's overlapping subscriptions into one
// delivery [MQTT-3.3.4-2], picks one member of each shared group [MQTT-4.8.2-3], and
// hands each worker the deliveries for the sessions it owns as one batch.
//
// Lock order (never held while calling out to a worker): registry_mutex_, then
// trie_mutex_, then retained_mutex_. The trie lock is shared for matching (each
// worker through its own stripe) and exclusive only to subscribe and unsubscribe.
// Thread-safety: every public function may be called from any worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <cicada/base/striped_shared_mutex.hpp>
#include <cicada/topic/retained_tree.hpp>
#include <cicada/topic/subscription_trie.hpp>
#include <cicada/topic/topic.hpp>

#include "../config/config.hpp"
#include "delivery.hpp"

namespace cicada::broker {

// Counters of the router, each drop under its own name. Messages routed are counted
// per worker by Router::published(): one counter shared by every worker moved its
// cache line between the cores on each PUBLISH (a locked add, 12 % of Router::publish
// in perf on fan-in).
struct RouterStats {
  std::atomic<std::uint64_t> retained_refused_count{0};
  std::atomic<std::uint64_t> retained_refused_bytes{0};
  std::atomic<std::uint64_t> retained_refused_payload_size{0};
};

class Router {
 public:
  // `dispatch(worker, batch)` hands a batch of deliveries to a worker; called with no
  // router lock held. The receiver takes the deliveries (moving the vector or its
  // elements); the router clears and reuses what it leaves.
  using Dispatch = std::function<void(std::uint32_t worker, std::vector<Delivery>&& batch)>;

  Router(const Config& config, std::uint32_t workers, Dispatch dispatch);

  // Routes a message published by session `publisher` (0: the broker itself), from
  // worker `from`. Retained messages are stored, replaced or (empty payload) deleted
  // first [MQTT-3.3.1-5], [MQTT-3.3.1-6].
  void publish(const MessagePtr& message, std::uint32_t from);

  // Re-dispatches a message that was owed to a member of a shared subscription
  // ("$share/{group}/{filter}") whose session ended: another member gets it.
  void redispatch_shared(const MessagePtr& message, const std::string& shared_subscription);

  // True when the subscription is new (false: it replaced one [MQTT-3.8.4-3]).
  bool subscribe(std::string_view filter, const topic::SubscriptionEntry& entry);
  bool unsubscribe(std::string_view filter, std::uint64_t subscriber);
  // (filter, session) subscriptions, shared ones included.
  std::size_t subscription_count() const;

  // Retained messages matching a (non-shared) filter, at most `limit` of them.
  std::vector<MessagePtr> retained_for(std::string_view filter, std::size_t limit) const;
  std::size_t retained_count() const;

  // --- session registry: client id -> handle -----------------------------------------
  struct Claim {
    SessionHandlePtr handle;
    bool existed;  // a session (possibly being moved) exists for this client id
  };
  // Finds or creates the handle of `client_id` for a connection on `worker`. An
  // existing handle is marked as being taken over until takeover_finished().
  Claim claim(const std::string& client_id, std::uint32_t worker);
  void takeover_finished(const SessionHandlePtr& handle);
  // Forgets the session of `handle` (it ended), unless a takeover of it is under way.
  // Returns false in that case: the session object must be kept for the new owner.
  bool release(const SessionHandlePtr& handle);
  std::size_t session_count() const;

  RouterStats& stats() noexcept { return stats_; }
  // Messages routed by every worker so far.
  std::uint64_t published() const noexcept;

 private:
  void store_retained(const MessagePtr& message);

  const Config& config_;
  std::uint32_t workers_;
  Dispatch dispatch_;

  mutable StripedSharedMutex trie_mutex_;  // a stripe per worker
  topic::SubscriptionTrie trie_;           // guarded by trie_mutex_

  mutable std::mutex retained_mutex_;
  topic::RetainedTree<MessagePtr> retained_;  // guarded by retained_mutex_
  std::uint64_t retained_bytes_ = 0;          // guarded by retained_mutex_

  // The registry is a set of handles hashed by their client id and looked up by a plain
  // id (transparent hash and equality): the id is stored once per session, in its handle.
  // The hash is noexcept, so libstdc++ does not cache it in the node: a node is a next
  // pointer and the handle, 24 bytes (a map from a view of the id was 56).
  struct ByClientId {
    using is_transparent = void;
    static std::string_view id(std::string_view id) noexcept { return id; }
    static std::string_view id(const SessionHandlePtr& handle) noexcept {
      return handle->client_id;
    }
    template <typename T>
    std::size_t operator()(const T& key) const noexcept {
      return std::hash<std::string_view>{}(id(key));
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const noexcept {
      return id(a) == id(b);
    }
  };
  mutable std::mutex registry_mutex_;
  std::unordered_set<SessionHandlePtr, ByClientId, ByClientId>
      registry_;  // guarded by registry_mutex_

  RouterStats stats_;
  // One per worker, each on its own cache line, written only by that worker's thread.
  struct alignas(64) Counter {
    std::atomic<std::uint64_t> value{0};
  };
  std::unique_ptr<Counter[]> published_;
};

}  // namespace cicada::broker
