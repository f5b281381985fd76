// The retained-message tree: one value per topic name, found by a topic filter when a
// client subscribes (MQTT 5.0 section 3.3.1.3).
// Thread-safety: single owner, not synchronised; const members may run concurrently
// with each other, never with insert() or erase().
//
// One node per topic level, children in a hash map keyed by the level (looked up by
// string_view, no std::string built). A filter is walked over the tree: a literal level
// is one lookup, '+' visits every child of that level, '#' the whole subtree including
// the node itself. Every walk is iterative, so a topic of 32,768 levels (the most 65,535
// bytes allow) cannot overflow the stack. Nodes left empty by erase() are freed.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cicada::topic {

template <class T>
class RetainedTree {
 public:
  RetainedTree() = default;
  // Not copyable or movable: the owner keeps it in place.
  RetainedTree(const RetainedTree&) = delete;
  RetainedTree& operator=(const RetainedTree&) = delete;
  ~RetainedTree() = default;

  // Stores `value` for the (valid) topic name `topic`, replacing any; returns the value
  // it replaced. [MQTT-3.3.1-5] a new retained message replaces the previous one.
  std::optional<T> insert(std::string_view topic, T value);

  // Removes the value of `topic` and returns it; nullopt when there was none.
  std::optional<T> erase(std::string_view topic);

  // The value of `topic`, or nullptr. Valid until the tree is next modified.
  const T* find(std::string_view topic) const;

  // Calls visit(std::string_view topic, const T&) for every retained topic that the
  // (valid, non-shared) filter matches, honouring [MQTT-4.7.2-1] for '$' topics. Stops
  // early when visit returns false (a visit returning void never stops). Order is
  // unspecified. The tree must not be modified from inside visit.
  template <class Visit>
  void match(std::string_view filter, Visit&& visit) const;

  // Calls visit(std::string_view topic, const T&) for every entry, e.g. for expiry
  // sweeps (collect, then erase); same early stop as match().
  template <class Visit>
  void for_each(Visit&& visit) const;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Nodes in the tree, the root included (an empty tree has 1); for tests that check
  // memory does not grow with insert/erase churn.
  std::size_t node_count() const noexcept { return node_count_; }

 private:
  struct LevelHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view level) const noexcept {
      return std::hash<std::string_view>{}(level);
    }
  };

  struct Entry {
    std::string topic;  // the full name, handed to visit without rebuilding it
    T value;
  };

  struct Node {
    using Children =
        std::unordered_map<std::string, std::unique_ptr<Node>, LevelHash, std::equal_to<>>;

    Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    ~Node();

    Children children;
    std::optional<Entry> entry;
  };

  using ChildIterator = typename Node::Children::const_iterator;

  // A level being enumerated by match() or for_each(): the children still to visit, and
  // what to do with each: continue the filter at `pos` ('+'), or take all ('#').
  struct Frame {
    ChildIterator next;
    ChildIterator end;
    std::size_t pos;
    bool whole_subtree;
    bool skip_dollar;  // [MQTT-4.7.2-1] a wildcard first level skips '$' topics
  };

  static constexpr std::size_t end_of_text = std::string_view::npos;

  // The level of `text` starting at `pos`; moves `pos` to the start of the next level,
  // or to end_of_text after the last one. "a/" has two levels, "a" and "".
  static std::string_view next_level(std::string_view text, std::size_t& pos) noexcept {
    const std::size_t slash = text.find('/', pos);
    const std::string_view level = text.substr(pos, slash - pos);
    pos = slash == std::string_view::npos ? end_of_text : slash + 1;
    return level;
  }

  template <class Visit>
  static bool call(Visit& visit, const Entry& entry) {
    if constexpr (std::is_void_v<std::invoke_result_t<Visit&, std::string_view, const T&>>) {
      visit(std::string_view(entry.topic), std::as_const(entry.value));
      return true;
    } else {
      return static_cast<bool>(visit(std::string_view(entry.topic), std::as_const(entry.value)));
    }
  }

  Node root_;
  std::size_t size_ = 0;
  std::size_t node_count_ = 1;
};

template <class T>
RetainedTree<T>::Node::~Node() {
  if (children.empty()) return;
  // Detach every descendant into a flat list before it is freed, so the recursion of
  // ~Node is one level deep however deep the tree is.
  std::vector<std::unique_ptr<Node>> doomed;
  const auto detach_children = [&doomed](Node& node) {
    for (auto& child : node.children)
      doomed.push_back(std::move(child.second));
    node.children.clear();
  };
  detach_children(*this);
  while (!doomed.empty()) {
    const std::unique_ptr<Node> node = std::move(doomed.back());
    doomed.pop_back();
    detach_children(*node);
  }
}

template <class T>
std::optional<T> RetainedTree<T>::insert(std::string_view topic, T value) {
  Node* node = &root_;
  std::size_t pos = 0;
  while (pos != end_of_text) {
    const std::string_view level = next_level(topic, pos);
    auto it = node->children.find(level);
    if (it == node->children.end()) {
      auto child = std::make_unique<Node>();
      it = node->children.emplace(std::string(level), std::move(child)).first;
      ++node_count_;
    }
    node = it->second.get();
  }
  if (node->entry) {
    std::optional<T> previous(std::move(node->entry->value));
    node->entry->value = std::move(value);
    return previous;
  }
  node->entry.emplace(Entry{std::string(topic), std::move(value)});
  ++size_;
  return std::nullopt;
}

template <class T>
std::optional<T> RetainedTree<T>::erase(std::string_view topic) {
  // Walk down, remembering the deepest node that survives whatever happens below it
  // (the root, or a node with an entry or another child) and the edge out of it; if the
  // target ends up childless, the chain below that edge is cut off in one go.
  Node* node = &root_;
  Node* keep = &root_;
  std::string_view keep_edge;
  std::size_t below_keep = 0;
  std::size_t pos = 0;
  while (pos != end_of_text) {
    const std::string_view level = next_level(topic, pos);
    const auto it = node->children.find(level);
    if (it == node->children.end()) return std::nullopt;
    if (node == &root_ || node->entry || node->children.size() > 1) {
      keep = node;
      keep_edge = level;
      below_keep = 0;
    }
    ++below_keep;
    node = it->second.get();
  }
  if (!node->entry) return std::nullopt;
  std::optional<T> previous(std::move(node->entry->value));
  node->entry.reset();
  --size_;
  if (node->children.empty()) {
    keep->children.erase(keep->children.find(keep_edge));
    node_count_ -= below_keep;
  }
  return previous;
}

template <class T>
const T* RetainedTree<T>::find(std::string_view topic) const {
  const Node* node = &root_;
  std::size_t pos = 0;
  while (pos != end_of_text) {
    const auto it = node->children.find(next_level(topic, pos));
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node->entry ? &node->entry->value : nullptr;
}

template <class T>
template <class Visit>
void RetainedTree<T>::match(std::string_view filter, Visit&& visit) const {
  // Matching runs once per SUBSCRIBE, not per PUBLISH, so the frame stack may allocate;
  // it holds one frame per wildcard level being enumerated, not one per child.
  std::vector<Frame> frames;
  // Follows the filter from `node` at `pos` through literal levels until it ends (visit
  // the node), hits a wildcard (push a frame), or finds no child. False means stop.
  const auto descend = [&](const Node* node, std::size_t pos) -> bool {
    for (;;) {
      if (pos == end_of_text) return !node->entry || call(visit, *node->entry);
      const bool first_level = node == &root_;
      const std::string_view level = next_level(filter, pos);
      if (level == "#") {
        // '#' also matches the parent level: "a/#" matches "a" (section 4.7.1.2). The
        // root has no entry, as no topic name has zero levels.
        if (node->entry && !call(visit, *node->entry)) return false;
        frames.push_back(
            {node->children.begin(), node->children.end(), end_of_text, true, first_level});
        return true;
      }
      if (level == "+") {
        frames.push_back({node->children.begin(), node->children.end(), pos, false, first_level});
        return true;
      }
      const auto it = node->children.find(level);
      if (it == node->children.end()) return true;
      node = it->second.get();
    }
  };

  if (!descend(&root_, 0)) return;
  while (!frames.empty()) {
    Frame& frame = frames.back();
    if (frame.next == frame.end) {
      frames.pop_back();
      continue;
    }
    const auto& [level, child_ptr] = *frame.next;
    ++frame.next;
    if (frame.skip_dollar && !level.empty() && level.front() == '$') continue;
    const Node* child = child_ptr.get();
    if (frame.whole_subtree) {
      // `frame` may dangle after the push below; nothing reads it again this turn.
      if (child->entry && !call(visit, *child->entry)) return;
      if (!child->children.empty()) {
        frames.push_back(
            {child->children.begin(), child->children.end(), end_of_text, true, false});
      }
    } else if (!descend(child, frame.pos)) {
      return;
    }
  }
}

template <class T>
template <class Visit>
void RetainedTree<T>::for_each(Visit&& visit) const {
  std::vector<Frame> frames;
  frames.push_back({root_.children.begin(), root_.children.end(), end_of_text, true, false});
  while (!frames.empty()) {
    Frame& frame = frames.back();
    if (frame.next == frame.end) {
      frames.pop_back();
      continue;
    }
    const Node* child = frame.next->second.get();
    ++frame.next;
    if (child->entry && !call(visit, *child->entry)) return;
    if (!child->children.empty()) {
      frames.push_back({child->children.begin(), child->children.end(), end_of_text, true, false});
    }
  }
}

}  // namespace cicada::topic
