// Inbox<T>: the multi-producer, single-consumer hand-off into a worker. Producers
// push from any thread; the owning worker drains everything in one swap. push()
// reports whether the inbox went from empty to non-empty, so a producer wakes the
// consumer's loop only then (STYLE.md 6: wake on empty-to-non-empty).
// The inbox is bounded: a push beyond `capacity` is refused and the producer counts
// the drop under its own reason. Control items that must never be lost (a session on
// its way between workers) are pushed with `bounded = false`.
// Thread-safety: push() from any thread; drain() only from the owning worker.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace cicada {

template <class T>
class Inbox {
 public:
  enum class PushResult { woke, queued, full };

  explicit Inbox(std::size_t capacity = 1 << 20) : capacity_(capacity) {}

  PushResult push(T item, bool bounded = true) {
    std::lock_guard lock(mutex_);
    if (bounded && items_.size() >= capacity_) return PushResult::full;
    items_.push_back(std::move(item));
    return items_.size() == 1 ? PushResult::woke : PushResult::queued;
  }

  // Moves every queued item into `out` (which the caller keeps and reuses, so the
  // steady state allocates nothing).
  void drain(std::vector<T>& out) {
    out.clear();
    std::lock_guard lock(mutex_);
    items_.swap(out);
  }

 private:
  std::mutex mutex_;
  std::vector<T> items_;  // guarded by mutex_
  std::size_t capacity_;
};

}  // namespace cicada
