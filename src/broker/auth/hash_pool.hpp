// HashPool: a few threads that check password hashes, so a slow hash (mosquitto 2.1's
// Argon2id costs ~50 ms and 46 MiB) never runs on a worker (DESIGN.md: broker/auth never
// blocks a worker). Jobs wait in a bounded queue; when it is full, submit() refuses and
// the caller answers at once (0x89 Server busy), so a flood of password guesses costs
// at most `threads` cores and `max_pending` queued requests, and everyone else's
// packets keep flowing on the workers.
// Thread-safety: submit() from any thread; the destructor from any thread, once no one
// submits any more (it drops jobs still queued and joins the threads, except its own).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cicada::broker::auth {

class HashPool {
 public:
  HashPool(std::size_t threads, std::size_t max_pending);
  ~HashPool();
  HashPool(const HashPool&) = delete;
  HashPool& operator=(const HashPool&) = delete;

  // Queues `job`; false (and `job` dropped) when `max_pending` jobs already wait.
  bool submit(std::function<void()> job);

  // The size the broker uses: half the cores, 1 to 4 threads, 1024 waiting checks.
  static std::size_t default_threads();
  static constexpr std::size_t kDefaultMaxPending = 1024;

 private:
  // Shared with the threads: the last owner of the pool may be a job's callback
  // finishing on a pool thread, which then cannot join itself; it is detached and
  // leaves on its own, still holding the state it reads.
  struct State {
    explicit State(std::size_t max) : max_pending(max) {}
    const std::size_t max_pending;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> jobs;  // guarded by mutex
    bool stopping = false;                   // guarded by mutex
  };
  static void run(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
};

}  // namespace cicada::broker::auth
