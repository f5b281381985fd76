// AnswerCache: bounded by entries and bytes, least recently used first out, answers
// valid for the TTL only. Times are passed in: no sleeping.
#include "broker/auth/answer_cache.hpp"

#include <gtest/gtest.h>

namespace cicada::broker::auth {
namespace {

using namespace std::chrono_literals;
const AnswerCache::Clock::time_point t0{};

AuthAnswer allow() {
  return AuthAnswer{.verdict = Verdict::allow};
}

TEST(AnswerCache, KeepsAnswersForTheTtl) {
  AnswerCache cache(10, 1 << 20, 60s);
  cache.insert("k", AuthAnswer{.verdict = Verdict::deny}, t0);
  auto hit = cache.find("k", t0 + 59s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->verdict, Verdict::deny);
  EXPECT_FALSE(cache.find("other", t0));
  EXPECT_FALSE(cache.find("k", t0 + 60s));  // expired, and dropped
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(AnswerCache, EvictsTheLeastRecentlyUsedAtTheEntryBound) {
  AnswerCache cache(2, 1 << 20, 60s);
  cache.insert("a", allow(), t0);
  cache.insert("b", allow(), t0);
  ASSERT_TRUE(cache.find("a", t0));  // a is now the most recently used
  cache.insert("c", allow(), t0);
  EXPECT_TRUE(cache.find("a", t0));
  EXPECT_FALSE(cache.find("b", t0));
  EXPECT_TRUE(cache.find("c", t0));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(AnswerCache, StaysWithinItsBytes) {
  AnswerCache one_entry(100, 1, 60s);
  one_entry.insert("k", allow(), t0);  // larger than the whole bound: not kept
  EXPECT_EQ(one_entry.size(), 0u);

  AnswerCache cache(1000, 2000, 60s);
  for (int i = 0; i < 100; ++i)
    cache.insert(std::string(100, static_cast<char>('a' + i % 26)) + std::to_string(i), allow(),
                 t0);
  EXPECT_LE(cache.bytes(), 2000u);
  EXPECT_GT(cache.size(), 0u);
  EXPECT_LT(cache.size(), 100u);
}

TEST(AnswerCache, ReplacesAnAnswerForTheSameKey) {
  AnswerCache cache(10, 1 << 20, 60s);
  cache.insert("k", allow(), t0);
  const std::size_t bytes = cache.bytes();
  cache.insert("k", AuthAnswer{.verdict = Verdict::deny}, t0 + 1s);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), bytes);
  EXPECT_EQ(cache.find("k", t0 + 1s)->verdict, Verdict::deny);
  EXPECT_TRUE(cache.find("k", t0 + 60s));  // the replacement's own TTL
}

}  // namespace
}  // namespace cicada::broker::auth
