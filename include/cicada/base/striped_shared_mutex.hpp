// StripedSharedMutex: a reader-writer lock for state that is read on every message
// and written rarely (the subscription trie: read per PUBLISH, written per SUBSCRIBE).
// A reader locks one stripe, its own (a worker's index); a writer locks every stripe,
// in order. A reader therefore touches only its stripe's cache line, where
// std::shared_mutex makes every reader write the same reader count, which moves
// between the cores on each read (perf on fan-in: pthread_rwlock_rdlock and _unlock
// took 7.5 % of the broker's CPU with two workers).
// Thread-safety: any thread may lock any stripe; two readers of one stripe exclude
// each other (correct, only slower), so each thread should keep to its own.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>

namespace cicada {

class StripedSharedMutex {
 public:
  explicit StripedSharedMutex(std::size_t stripes)
      : count_(stripes == 0 ? 1 : stripes), stripes_(std::make_unique<Stripe[]>(count_)) {}

  // Exclusive: every stripe, always in index order, so two writers cannot deadlock.
  void lock() {
    for (std::size_t i = 0; i < count_; ++i)
      stripes_[i].mutex.lock();
  }
  void unlock() {
    for (std::size_t i = count_; i > 0; --i)
      stripes_[i - 1].mutex.unlock();
  }

  // Shared, through stripe `stripe` (taken modulo the stripe count).
  void lock_shared(std::size_t stripe) { stripes_[stripe % count_].mutex.lock(); }
  void unlock_shared(std::size_t stripe) { stripes_[stripe % count_].mutex.unlock(); }

  // A scoped shared lock on one stripe.
  class SharedLock {
   public:
    SharedLock(StripedSharedMutex& mutex, std::size_t stripe) : mutex_(mutex), stripe_(stripe) {
      mutex_.lock_shared(stripe_);
    }
    ~SharedLock() { mutex_.unlock_shared(stripe_); }
    SharedLock(const SharedLock&) = delete;
    SharedLock& operator=(const SharedLock&) = delete;

   private:
    StripedSharedMutex& mutex_;
    std::size_t stripe_;
  };

 private:
  struct alignas(64) Stripe {
    std::mutex mutex;
  };
  std::size_t count_;
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace cicada
