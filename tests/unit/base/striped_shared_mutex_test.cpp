#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <cicada/base/striped_shared_mutex.hpp>

namespace cicada {
namespace {

using namespace std::chrono_literals;

TEST(StripedSharedMutex, ReadersOfDifferentStripesDoNotWaitForEachOther) {
  StripedSharedMutex mutex(2);
  StripedSharedMutex::SharedLock first(mutex, 0);
  // Stripe 1 is free while stripe 0 is held: the second reader gets in at once.
  auto second =
      std::async(std::launch::async, [&] { StripedSharedMutex::SharedLock lock(mutex, 1); });
  EXPECT_EQ(second.wait_for(10s), std::future_status::ready);
}

TEST(StripedSharedMutex, AWriterWaitsForAReaderOfAnyStripe) {
  for (std::size_t stripe = 0; stripe < 3; ++stripe) {
    StripedSharedMutex mutex(3);
    std::atomic<bool> written{false};
    std::thread writer;
    {
      StripedSharedMutex::SharedLock reader(mutex, stripe);
      writer = std::thread([&] {
        std::unique_lock lock(mutex);
        written = true;
      });
      std::this_thread::sleep_for(50ms);
      EXPECT_FALSE(written) << "the writer got in while stripe " << stripe << " was read";
    }
    writer.join();
    EXPECT_TRUE(written);
  }
}

TEST(StripedSharedMutex, AStripeBeyondTheCountWrapsAround) {
  StripedSharedMutex mutex(2);
  std::atomic<bool> written{false};
  std::thread writer;
  {
    StripedSharedMutex::SharedLock reader(mutex, 5);  // stripe 1
    writer = std::thread([&] {
      std::unique_lock lock(mutex);
      written = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(written);
  }
  writer.join();
  EXPECT_TRUE(written);
}

TEST(StripedSharedMutex, ReadersNeverSeeAHalfDoneWrite) {
  StripedSharedMutex mutex(4);
  // A writer keeps a == b; a reader that ever saw them differ saw half a write.
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> torn{0};
  std::vector<std::thread> threads;
  for (std::size_t stripe = 0; stripe < 4; ++stripe) {
    threads.emplace_back([&, stripe] {
      while (!stop) {
        StripedSharedMutex::SharedLock lock(mutex, stripe);
        if (a != b) ++torn;
      }
    });
  }
  for (int i = 0; i < 20000; ++i) {
    std::unique_lock lock(mutex);
    ++a;
    ++b;
  }
  stop = true;
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(a, 20000u);
}

TEST(StripedSharedMutex, ZeroStripesMeansOne) {
  StripedSharedMutex mutex(0);
  { StripedSharedMutex::SharedLock lock(mutex, 7); }
  std::unique_lock lock(mutex);
  SUCCEED();
}

}  // namespace
}  // namespace cicada
