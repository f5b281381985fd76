// Subscription trie: subscribe, unsubscribe with pruning, and node teardown. match() is a
// template in the header so the broker's callbacks inline into the walk.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cicada/topic/subscription_trie.hpp>
#include <cicada/topic/topic.hpp>

namespace cicada::topic {
namespace {

// Adds `entry` or replaces the entry of the same subscriber; true when it was added.
// The scan is linear: per-node lists are short, and keeping them flat keeps match() fast.
bool upsert(std::vector<SubscriptionEntry>& entries, const SubscriptionEntry& entry) {
  const auto it = std::find_if(entries.begin(), entries.end(), [&](const SubscriptionEntry& e) {
    return e.subscriber == entry.subscriber;
  });
  if (it != entries.end()) {
    *it = entry;  // [MQTT-3.8.4-3] replace the existing subscription, keep one
    return false;
  }
  entries.push_back(entry);
  return true;
}

bool remove(std::vector<SubscriptionEntry>& entries, SubscriberId subscriber) {
  const auto it = std::find_if(entries.begin(), entries.end(), [&](const SubscriptionEntry& e) {
    return e.subscriber == subscriber;
  });
  if (it == entries.end()) return false;
  // Order carries no meaning, so swap-and-pop instead of shifting the tail.
  *it = entries.back();
  entries.pop_back();
  return true;
}

}  // namespace

SubscriptionTrie::Node::~Node() {
  if (child_count() == 0) return;
  // Detach every descendant into a flat list before it is freed, so each ~Node that
  // runs below sees no children and the recursion is one level deep, however deep the
  // trie is.
  std::vector<std::unique_ptr<Node>> doomed;
  const auto detach_children = [&doomed](Node& node) {
    for (auto& entry : node.children)
      doomed.push_back(std::move(entry.second));
    node.children.clear();
    if (node.plus) doomed.push_back(std::move(node.plus));
    if (node.hash) doomed.push_back(std::move(node.hash));
  };
  detach_children(*this);
  while (!doomed.empty()) {
    const std::unique_ptr<Node> node = std::move(doomed.back());
    doomed.pop_back();
    detach_children(*node);
  }
}

bool SubscriptionTrie::subscribe(std::string_view filter, const SubscriptionEntry& entry) {
  const std::optional<SharedFilter> shared = parse_shared(filter);
  if (shared) filter = shared->filter;

  Node* node = &root_;
  std::size_t pos = 0;
  while (pos != end_of_topic) {
    const std::string_view level = next_level(filter, pos);
    std::unique_ptr<Node>* slot = nullptr;
    if (level == "+") {
      slot = &node->plus;
    } else if (level == "#") {
      slot = &node->hash;
    } else if (const auto it = node->children.find(level); it != node->children.end()) {
      slot = &it->second;
    } else {
      // Allocate the node before inserting the key, so a failed allocation leaves no
      // null child behind.
      auto child = std::make_unique<Node>();
      slot = &node->children.emplace(std::string(level), std::move(child)).first->second;
      ++node_count_;
    }
    if (!*slot) {
      *slot = std::make_unique<Node>();
      ++node_count_;
    }
    node = slot->get();
  }

  bool added = false;
  if (!shared) {
    added = upsert(node->subscribers, entry);
  } else {
    if (!node->shared) {
      node->shared = std::make_unique<SharedGroups>();
      node->shared->filter = std::string(filter);
    }
    std::vector<SharedGroup>& groups = node->shared->groups;
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const SharedGroup& g) { return g.name == shared->group; });
    if (group == groups.end()) {
      groups.push_back(SharedGroup{std::string(shared->group), {}});
      group = std::prev(groups.end());
    }
    // [MQTT-3.8.4-3] speaks of non-shared subscriptions; a session that subscribes to
    // "$share/g/f" again is likewise one member of g, with the new options.
    added = upsert(group->members, entry);
  }
  if (added) ++size_;
  return added;
}

bool SubscriptionTrie::unsubscribe(std::string_view filter, SubscriberId subscriber) {
  const std::optional<SharedFilter> shared = parse_shared(filter);
  if (shared) filter = shared->filter;

  // Walk down, remembering the deepest node that survives whatever happens below it (the
  // root, or a node with subscriptions of its own or another child) and the edge out of
  // it. If the target node ends up empty, everything below that edge is a chain that
  // served only this subscription and is cut off in one go, so the trie's size follows
  // the live subscriptions and does not grow with churn.
  Node* node = &root_;
  Node* keep = &root_;
  std::string_view keep_edge;
  std::size_t below_keep = 0;
  std::size_t pos = 0;
  while (pos != end_of_topic) {
    const std::string_view level = next_level(filter, pos);
    Node* child = nullptr;
    if (level == "+") {
      child = node->plus.get();
    } else if (level == "#") {
      child = node->hash.get();
    } else if (const auto it = node->children.find(level); it != node->children.end()) {
      child = it->second.get();
    }
    if (child == nullptr) return false;
    if (node == &root_ || node->has_subscriptions() || node->child_count() > 1) {
      keep = node;
      keep_edge = level;
      below_keep = 0;
    }
    ++below_keep;
    node = child;
  }

  if (!shared) {
    if (!remove(node->subscribers, subscriber)) return false;
  } else {
    if (!node->shared) return false;
    std::vector<SharedGroup>& groups = node->shared->groups;
    const auto group = std::find_if(groups.begin(), groups.end(),
                                    [&](const SharedGroup& g) { return g.name == shared->group; });
    if (group == groups.end() || !remove(group->members, subscriber)) return false;
    if (group->members.empty()) groups.erase(group);
    if (groups.empty()) node->shared.reset();
  }
  --size_;

  if (node->has_subscriptions() || node->child_count() > 0) return true;
  if (keep_edge == "+") {
    keep->plus.reset();
  } else if (keep_edge == "#") {
    keep->hash.reset();
  } else {
    keep->children.erase(keep->children.find(keep_edge));
  }
  node_count_ -= below_keep;
  return true;
}

}  // namespace cicada::topic
