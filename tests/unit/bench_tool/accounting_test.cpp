// Loss accounting over streams: pubsub's exact figure with tails and silent streams,
// shared subscriptions, and sub's gaps-only figure.
#include "accounting.hpp"

#include <gtest/gtest.h>

#include "plan.hpp"

namespace cicada::bench {
namespace {

constexpr std::uint32_t run_id = 77;

void feed(StreamTable& table, std::uint32_t subscriber, std::uint32_t publisher,
          std::initializer_list<std::uint64_t> sequence, std::uint32_t run = run_id) {
  auto [it, inserted] =
      table.try_emplace(StreamKey{subscriber, run, publisher},
                        SequenceTracker(run == run_id ? 0 : std::optional<std::uint64_t>{}));
  for (auto n : sequence)
    it->second.on_sequence(n);
}

TEST(Accounting, PubsubCountsGapsTailsAndDuplicates) {
  StreamTable table;
  feed(table, 0, 1, {0, 1, 2, 2, 4});  // 3 missing, 5 never arrived, one duplicate
  feed(table, 0, 2, {0, 1, 2, 3, 4, 5});
  KnownRun run{.run_id = run_id,
               .publishers = {{.index = 1, .topic = "t/1", .sent = 6},
                              {.index = 2, .topic = "t/2", .sent = 6}},
               .subscribers = {{.ordinal = 0, .filter = "t/+", .subscribed = true}}};
  const LossTotals totals = account_loss({&table}, &run);
  EXPECT_EQ(totals.lost, 2u);
  EXPECT_EQ(totals.duplicates, 1u);
  EXPECT_TRUE(totals.note.empty());
}

TEST(Accounting, PubsubCountsAMatchingButSilentStreamAsLost) {
  StreamTable table;
  feed(table, 0, 1, {0, 1});
  KnownRun run{.run_id = run_id,
               .publishers = {{.index = 1, .topic = "t/1", .sent = 2},
                              {.index = 2, .topic = "t/2", .sent = 5},
                              {.index = 3, .topic = "other", .sent = 9}},
               .subscribers = {{.ordinal = 0, .filter = "t/#", .subscribed = true},
                               {.ordinal = 1, .filter = "t/#", .subscribed = false}}};
  // Subscriber 0 should have had publisher 2's five; publisher 3 does not match;
  // subscriber 1 never subscribed.
  EXPECT_EQ(account_loss({&table}, &run).lost, 5u);
}

TEST(Accounting, SharedSubscriptionsAreCountedPerPublisher) {
  StreamTable a, b;
  feed(a, 0, 1, {0, 2, 4});
  feed(b, 1, 1, {1, 3});  // together: 0..4, nothing lost, though each has gaps
  KnownRun run{.run_id = run_id,
               .publishers = {{.index = 1, .topic = "t/1", .sent = 6}},
               .subscribers = {{.ordinal = 0, .filter = "$share/g/t/+", .subscribed = true},
                               {.ordinal = 1, .filter = "$share/g/t/+", .subscribed = true}}};
  const LossTotals totals = account_loss({&a, &b}, &run);
  EXPECT_EQ(totals.lost, 1u);  // number 5
  EXPECT_FALSE(totals.note.empty());
}

TEST(Accounting, WithoutAKnownRunOnlyGapsCount) {
  StreamTable table;
  feed(table, 0, 1, {10, 11, 14}, /*run=*/5);
  feed(table, 0, 2, {3, 3}, /*run=*/5);
  const LossTotals totals = account_loss({&table}, nullptr);
  EXPECT_EQ(totals.lost, 2u);
  EXPECT_EQ(totals.duplicates, 1u);
  EXPECT_FALSE(totals.note.empty());
}

TEST(Accounting, OtherRunsInPubsubCountTheirGapsOnly) {
  StreamTable table;
  feed(table, 0, 1, {0, 1});
  feed(table, 0, 1, {50, 52}, /*run=*/9);  // a stray publisher of another process
  KnownRun run{.run_id = run_id,
               .publishers = {{.index = 1, .topic = "t/1", .sent = 2}},
               .subscribers = {{.ordinal = 0, .filter = "t/1", .subscribed = true}}};
  EXPECT_EQ(account_loss({&table}, &run).lost, 1u);
}

TEST(Plan, LimitIsSharedOutEvenly) {
  EXPECT_EQ(share_of_limit(0, 3, 0), UINT64_MAX);
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < 7; ++i)
    total += share_of_limit(100, 7, i);
  EXPECT_EQ(total, 100u);
  EXPECT_EQ(share_of_limit(100, 7, 0), 15u);
  EXPECT_EQ(share_of_limit(100, 7, 6), 14u);
  EXPECT_EQ(share_of_limit(2, 5, 4), 0u);
}

TEST(Plan, ClientsAreDealtRoundRobin) {
  std::vector<ClientSpec> specs(5);
  for (std::uint32_t i = 0; i < 5; ++i)
    specs[i].ordinal = i;
  auto parts = distribute(specs, 2);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].size(), 3u);
  EXPECT_EQ(parts[1].size(), 2u);
  EXPECT_EQ(parts[1][0].ordinal, 1u);
}

TEST(Plan, ExpandsTopicsAndRefusesInvalidOnes) {
  Options o;
  o.scenario = Scenario::pubsub;
  o.host = "127.0.0.1";
  o.count = 3;
  o.subscribers = 2;
  o.start_number = 10;
  o.topic = "bench/%i";
  ASSERT_FALSE(finalize(o));
  auto plan = make_plan(o);
  ASSERT_TRUE(plan) << plan.error();
  ASSERT_EQ(plan->specs.size(), 5u);
  EXPECT_EQ(plan->specs[0].role, Role::sub);
  EXPECT_EQ(plan->specs[0].topic, "bench/+");
  EXPECT_EQ(plan->specs[2].role, Role::pub);
  EXPECT_EQ(plan->specs[2].group, 1);
  EXPECT_EQ(plan->specs[2].topic, "bench/10");
  EXPECT_EQ(plan->specs[4].topic, "bench/12");
  EXPECT_EQ(plan->settings.stream_first, 0u);

  o.scenario = Scenario::pub;
  o.topic = "bench/#";
  auto bad = make_plan(o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("bench/#"), std::string::npos);
}

}  // namespace
}  // namespace cicada::bench
