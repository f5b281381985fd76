// HashPool and the password-file step that uses it: checks run on a pool thread, never
// on the caller's; the queue is bounded and a full one answers 0x89 at once; users the
// file does not list are answered inline without a hash. Synchronised with promises
// and latches, never with sleeps or timings.
#include "broker/auth/hash_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <set>
#include <string>
#include <thread>

#include "broker/auth/file_sources.hpp"

namespace cicada::broker::auth {
namespace {

const std::string kData = CICADA_TEST_DATA_DIR "/auth/";

TEST(HashPool, RunsJobsOnItsOwnThreads) {
  HashPool pool(2, 16);
  std::promise<std::thread::id> ran;
  ASSERT_TRUE(pool.submit([&] { ran.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(ran.get_future().get(), std::this_thread::get_id());
}

TEST(HashPool, RefusesWhenMaxPendingJobsWait) {
  HashPool pool(1, 2);
  std::latch started(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  // The only thread is busy; two more may wait, the third is refused.
  ASSERT_TRUE(pool.submit([&] {
    started.count_down();
    released.wait();
  }));
  started.wait();
  std::atomic<int> done{0};
  EXPECT_TRUE(pool.submit([&] { ++done; }));
  EXPECT_TRUE(pool.submit([&] { ++done; }));
  EXPECT_FALSE(pool.submit([&] { ++done; }));
  release.set_value();
  std::promise<void> last;
  while (!pool.submit([&] { last.set_value(); }))
    std::this_thread::yield();
  last.get_future().wait();  // jobs run in order: the two before it are done
  EXPECT_EQ(done.load(), 2);
}

TEST(HashPool, DestructionDropsQueuedJobs) {
  std::atomic<int> ran{0};
  {
    HashPool pool(1, 8);
    std::latch started(1);
    std::promise<void> release;
    ASSERT_TRUE(pool.submit([&] {
      started.count_down();
      release.get_future().wait();
    }));
    started.wait();
    ASSERT_TRUE(pool.submit([&] { ++ran; }));
    std::thread unblock([&] { release.set_value(); });
    unblock.join();
  }
  // The queued job may have started before the destructor took the lock, or not: at
  // most once, and the pool is gone without hanging.
  EXPECT_LE(ran.load(), 1);
}

TEST(HashPool, TheLastOwnerMayLetGoOnAPoolThread) {
  // As when a chain is replaced while a check's callback still holds the old steps:
  // the pool is destroyed by its own thread, which must not try to join itself.
  auto pool = std::make_shared<HashPool>(2, 8);
  std::promise<void> gone;
  HashPool* raw = pool.get();
  ASSERT_TRUE(raw->submit([owner = std::move(pool), &gone]() mutable {
    owner.reset();  // the last reference: ~HashPool runs here, on a pool thread
    gone.set_value();
  }));
  gone.get_future().wait();
}

std::shared_ptr<const Authenticator> password_step(std::shared_ptr<HashPool> pool) {
  auto step = PasswordFileAuthenticator::open(kData + "mosquitto_passwd.txt", {"alice"}, pool);
  EXPECT_TRUE(step) << (step ? "" : step.error());
  return *step;
}

struct Answered {
  AuthAnswer answer;
  std::thread::id thread;
};

Answered ask(const Authenticator& step, std::optional<std::string> user,
             std::optional<std::string> password) {
  std::promise<Answered> promise;
  step.authenticate(ConnectRequest{.client_id = "c", .username = user, .password = password},
                    [&](AuthAnswer answer) {
                      promise.set_value({answer, std::this_thread::get_id()});
                    });
  return promise.get_future().get();
}

TEST(PasswordFileStep, ChecksAListedUserOnThePool) {
  auto step = password_step(std::make_shared<HashPool>(1, 8));
  const Answered right = ask(*step, "alice", "alice-secret");
  EXPECT_EQ(right.answer.verdict, Verdict::allow);
  EXPECT_TRUE(right.answer.superuser);
  EXPECT_NE(right.thread, std::this_thread::get_id());
  const Answered wrong = ask(*step, "alice", "guess");
  EXPECT_EQ(wrong.answer.verdict, Verdict::deny);
  EXPECT_EQ(wrong.answer.deny_reason, codec::ReasonCode::bad_user_name_or_password);
  EXPECT_NE(wrong.thread, std::this_thread::get_id());
}

TEST(PasswordFileStep, AnswersUnlistedUsersInlineWithoutTheirHash) {
  auto step = password_step(std::make_shared<HashPool>(1, 8));
  const Answered unknown = ask(*step, "mallory", "anything");
  EXPECT_EQ(unknown.answer.verdict, Verdict::ignore);
  EXPECT_EQ(unknown.thread, std::this_thread::get_id());
  const Answered anonymous = ask(*step, std::nullopt, std::nullopt);
  EXPECT_EQ(anonymous.answer.verdict, Verdict::ignore);
  EXPECT_EQ(anonymous.thread, std::this_thread::get_id());
}

TEST(PasswordFileStep, AFullPoolRefusesAtOnceWithServerBusy) {
  auto pool = std::make_shared<HashPool>(1, 1);
  auto step = password_step(pool);
  std::latch started(1);
  std::promise<void> release;
  ASSERT_TRUE(pool->submit([&] {
    started.count_down();
    release.get_future().wait();
  }));
  started.wait();
  std::promise<AuthAnswer> queued;
  step->authenticate(ConnectRequest{.client_id = "a", .username = "alice", .password = "x"},
                     [&](AuthAnswer answer) { queued.set_value(answer); });
  // The queue (1) is full now: the next check is refused on the caller's thread.
  const Answered busy = ask(*step, "alice", "alice-secret");
  EXPECT_EQ(busy.answer.verdict, Verdict::deny);
  EXPECT_EQ(busy.answer.deny_reason, codec::ReasonCode::server_busy);
  EXPECT_EQ(busy.thread, std::this_thread::get_id());
  release.set_value();
  EXPECT_EQ(queued.get_future().get().verdict, Verdict::deny);
}

TEST(PasswordFileStep, AReloadedStepKeepsThePool) {
  auto pool = std::make_shared<HashPool>(1, 8);
  auto step = password_step(pool);
  auto again = step->reloaded();
  ASSERT_TRUE(again);
  EXPECT_EQ(ask(**again, "alice", "alice-secret").answer.verdict, Verdict::allow);
  EXPECT_EQ(pool.use_count(), 3);  // here, the first step, the reloaded one
}

}  // namespace
}  // namespace cicada::broker::auth
