#include "broker/auth/hash_pool.hpp"

#include <algorithm>

namespace cicada::broker::auth {

HashPool::HashPool(std::size_t threads, std::size_t max_pending)
    : state_(std::make_shared<State>(std::max<std::size_t>(max_pending, 1))) {
  threads = std::max<std::size_t>(threads, 1);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([state = state_] { run(state); });
}

HashPool::~HashPool() {
  std::deque<std::function<void()>> dropped;  // destroyed with no lock held
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    dropped.swap(state_->jobs);
  }
  state_->wake.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();  // see State: it returns from run() right after this job
    } else {
      thread.join();
    }
  }
}

std::size_t HashPool::default_threads() {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency() / 2, 1, 4);
}

bool HashPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping || state_->jobs.size() >= state_->max_pending) return false;
    state_->jobs.push_back(std::move(job));
  }
  state_->wake.notify_one();
  return true;
}

void HashPool::run(const std::shared_ptr<State>& state) {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(state->mutex);
      state->wake.wait(lock, [&] { return state->stopping || !state->jobs.empty(); });
      if (state->stopping) return;
      job = std::move(state->jobs.front());
      state->jobs.pop_front();
    }
    job();  // no lock held while calling out (STYLE.md 4)
    // Destroying the job may drop the pool's last owner (see State): done here, on
    // this thread, before the loop reads the state again.
    job = nullptr;
  }
}

}  // namespace cicada::broker::auth
