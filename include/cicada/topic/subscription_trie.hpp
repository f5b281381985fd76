// The subscription trie: which subscriptions match a topic name (MQTT 5.0 sections 4.7,
// 4.8.2, 3.8.4).
// Thread-safety: single owner, not synchronised. The broker shares one instance behind a
// std::shared_mutex: match() under a shared lock, subscribe()/unsubscribe() under an
// exclusive one.
//
// One node per filter level. A node keeps its '+' and '#' children as separate pointers
// beside the map of literal children, so matching one topic level costs one hash lookup
// (heterogeneous: no std::string is built) and two pointer checks. match() allocates
// nothing unless more than `inline_pending` branches are open at once, which takes a
// filter set with that many nested '+' levels. Every walk is iterative, so a filter of
// 32,768 levels (the most 65,535 bytes allow) cannot overflow the stack.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cicada::topic {

using SubscriberId = std::uint64_t;

struct SubscriptionEntry {
  SubscriberId subscriber;
  // The raw MQTT 5 subscription options byte (section 3.8.3.1): bits 0-1 maximum QoS,
  // bit 2 No Local, bit 3 Retain As Published, bits 4-5 Retain Handling.
  std::uint8_t options;
  // MQTT 5 Subscription Identifier (section 3.8.2.1.2); 0 means none.
  std::uint32_t identifier = 0;
};

class SubscriptionTrie {
 public:
  SubscriptionTrie() = default;
  // Not copyable or movable: the owner keeps it in place next to its lock.
  SubscriptionTrie(const SubscriptionTrie&) = delete;
  SubscriptionTrie& operator=(const SubscriptionTrie&) = delete;
  ~SubscriptionTrie() = default;

  // Adds or replaces the subscription of `entry.subscriber` to `filter`, a filter that
  // validate_filter accepted, possibly "$share/{group}/{filter}". Returns true when it is
  // new, false when it replaced the subscriber's existing one for the same filter (and,
  // for a shared filter, the same group) [MQTT-3.8.4-3].
  bool subscribe(std::string_view filter, const SubscriptionEntry& entry);

  // Removes the subscription; false when there was none. Nodes left empty are freed.
  bool unsubscribe(std::string_view filter, SubscriberId subscriber);

  // For a valid topic name, calls
  //   on_subscriber(const SubscriptionEntry&)
  // once per non-shared (filter, subscriber) pair whose filter matches; a subscriber with
  // overlapping filters is reported once per filter and the caller merges them. And calls
  //   on_group(std::string_view group, std::string_view filter,
  //            std::span<const SubscriptionEntry> members)
  // once per shared group per matching filter, `filter` without its "$share/{group}/".
  // The views are valid until the trie is next modified. Order is unspecified.
  template <class OnSubscriber, class OnGroup>
  void match(std::string_view topic, OnSubscriber&& on_subscriber, OnGroup&& on_group) const;

  // Number of (filter, subscriber) subscriptions, shared ones included.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Nodes in the trie, the root included (an empty trie has 1); for tests that check
  // memory does not grow with subscribe/unsubscribe churn.
  std::size_t node_count() const noexcept { return node_count_; }

 private:
  struct LevelHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view level) const noexcept {
      return std::hash<std::string_view>{}(level);
    }
  };

  struct SharedGroup {
    std::string name;
    std::vector<SubscriptionEntry> members;
  };

  // Only nodes that carry shared subscriptions pay for this.
  struct SharedGroups {
    std::string filter;  // the inner filter, reported to on_group
    std::vector<SharedGroup> groups;
  };

  struct Node {
    // Keys are owned by the map: the filter passed to subscribe() is not kept.
    using Children =
        std::unordered_map<std::string, std::unique_ptr<Node>, LevelHash, std::equal_to<>>;

    Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    // Iterative, so freeing a deep chain does not recurse once per level.
    ~Node();

    const Node* literal(std::string_view level) const {
      if (children.empty()) return nullptr;
      const auto it = children.find(level);
      return it == children.end() ? nullptr : it->second.get();
    }
    std::size_t child_count() const noexcept {
      return children.size() + (plus ? 1U : 0U) + (hash ? 1U : 0U);
    }
    bool has_subscriptions() const noexcept { return !subscribers.empty() || shared; }

    Children children;
    std::unique_ptr<Node> plus;
    std::unique_ptr<Node> hash;
    std::vector<SubscriptionEntry> subscribers;
    std::unique_ptr<SharedGroups> shared;
  };

  // A '+' branch not yet taken: the node and where its next topic level starts.
  struct Pending {
    const Node* node;
    std::size_t pos;
  };

  // match()'s depth-first stack: inline for the common case, spilling to the heap only
  // past `inline_pending` open branches.
  static constexpr std::size_t inline_pending = 32;
  class PendingStack {
   public:
    bool empty() const noexcept { return size_ == 0 && spill_.empty(); }
    void push(Pending pending) {
      if (size_ < inline_.size()) {
        inline_[size_++] = pending;
      } else {
        spill_.push_back(pending);
      }
    }
    Pending pop() noexcept {
      if (!spill_.empty()) {
        const Pending pending = spill_.back();
        spill_.pop_back();
        return pending;
      }
      return inline_[--size_];
    }

   private:
    std::array<Pending, inline_pending> inline_;
    std::size_t size_ = 0;
    std::vector<Pending> spill_;
  };

  static constexpr std::size_t end_of_topic = std::string_view::npos;

  // The level of `text` starting at `pos`; moves `pos` to the start of the next level,
  // or to end_of_topic after the last one. "a/" has two levels, "a" and "".
  static std::string_view next_level(std::string_view text, std::size_t& pos) noexcept {
    const std::size_t slash = text.find('/', pos);
    const std::string_view level = text.substr(pos, slash - pos);
    pos = slash == std::string_view::npos ? end_of_topic : slash + 1;
    return level;
  }

  template <class OnSubscriber, class OnGroup>
  static void report(const Node& node, OnSubscriber& on_subscriber, OnGroup& on_group);

  Node root_;
  std::size_t size_ = 0;
  std::size_t node_count_ = 1;
};

template <class OnSubscriber, class OnGroup>
void SubscriptionTrie::report(const Node& node, OnSubscriber& on_subscriber, OnGroup& on_group) {
  for (const SubscriptionEntry& entry : node.subscribers)
    on_subscriber(entry);
  if (!node.shared) return;
  const std::string_view filter = node.shared->filter;
  for (const SharedGroup& group : node.shared->groups) {
    on_group(std::string_view(group.name), filter,
             std::span<const SubscriptionEntry>(group.members));
  }
}

template <class OnSubscriber, class OnGroup>
void SubscriptionTrie::match(std::string_view topic, OnSubscriber&& on_subscriber,
                             OnGroup&& on_group) const {
  // [MQTT-4.7.2-1] A '+' or '#' first level does not match a topic starting with '$'.
  const bool dollar_topic = !topic.empty() && topic.front() == '$';
  PendingStack pending;
  const Node* node = &root_;
  std::size_t pos = 0;
  for (;;) {
    const bool wildcards_allowed = !dollar_topic || node != &root_;
    // '#' matches this level and all below, and the parent level too: "a/#" matches "a"
    // (section 4.7.1.2).
    if (node->hash && wildcards_allowed) report(*node->hash, on_subscriber, on_group);
    const Node* next = nullptr;
    if (pos == end_of_topic) {
      report(*node, on_subscriber, on_group);
    } else {
      const std::string_view level = next_level(topic, pos);
      const Node* plus = wildcards_allowed ? node->plus.get() : nullptr;
      next = node->literal(level);
      if (next == nullptr) {
        next = plus;
      } else if (plus != nullptr) {
        pending.push({plus, pos});
      }
    }
    if (next != nullptr) {
      node = next;
      continue;
    }
    if (pending.empty()) return;
    const Pending resume = pending.pop();
    node = resume.node;
    pos = resume.pos;
  }
}

}  // namespace cicada::topic
