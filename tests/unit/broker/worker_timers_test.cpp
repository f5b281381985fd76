// Worker::run_at: one timer per worker runs tasks in the order of their due times
// (ties: first come, first run), also tasks added by a running task, and tasks due
// in the past at once. Times in the past or a few ms ahead; the test waits for
// completion with a promise, never asserts a duration.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "broker/core/router.hpp"
#include "broker/core/worker.hpp"

namespace cicada::broker {
namespace {

using namespace std::chrono_literals;

TEST(WorkerTimers, RunInDueOrderOnTheWorkerThread) {
  Config config;
  AllowAll auth;
  Router router(config, 1, [](std::uint32_t, std::vector<Delivery>&&) {});
  Worker worker(0, config, router, auth);
  worker.set_peers({&worker});
  worker.start();

  std::vector<std::string> order;  // touched only on the worker's thread
  std::promise<std::vector<std::string>> finished;
  std::promise<std::thread::id> worker_thread;
  worker.post([&](Worker& self) {
    worker_thread.set_value(std::this_thread::get_id());
    const TimePoint now = Clock::now();
    self.run_at(now + 20ms, [&] {
      order.push_back("later");
      // Added while the timers run: due already, it still runs.
      self.run_at(Clock::now() - 1s, [&] {
        order.push_back("from a task");
        finished.set_value(order);
      });
    });
    self.run_at(now - 1s, [&] { order.push_back("past 1"); });
    self.run_at(now, [&] { order.push_back("now"); });
    self.run_at(now - 1s, [&] { order.push_back("past 2"); });
    self.run_at(now - 2s, [&] { order.push_back("earliest"); });
  });
  const auto id = worker_thread.get_future().get();
  EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_EQ(finished.get_future().get(), (std::vector<std::string>{"earliest", "past 1", "past 2",
                                                                   "now", "later", "from a task"}));
  worker.shutdown();
  worker.join();
}

}  // namespace
}  // namespace cicada::broker
