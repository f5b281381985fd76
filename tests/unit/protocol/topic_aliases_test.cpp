#include <gtest/gtest.h>

#include <cicada/protocol/topic_aliases.hpp>

namespace cicada::protocol {
namespace {

TEST(InboundTopicAliases, DefinesUsesAndRejects) {
  InboundTopicAliases aliases(2);
  std::string_view topic = "a/b";
  EXPECT_EQ(aliases.resolve(topic, 1), InboundTopicAliases::Result::ok);
  std::string_view empty;
  EXPECT_EQ(aliases.resolve(empty, 1), InboundTopicAliases::Result::ok);
  EXPECT_EQ(empty, "a/b");
  std::string_view unknown;
  EXPECT_EQ(aliases.resolve(unknown, 2), InboundTopicAliases::Result::unknown_alias);
  std::string_view any = "x";
  EXPECT_EQ(aliases.resolve(any, 3), InboundTopicAliases::Result::alias_out_of_range);
  EXPECT_EQ(aliases.resolve(any, 0), InboundTopicAliases::Result::alias_out_of_range);
  // Redefining an alias replaces its topic.
  std::string_view other = "c/d";
  EXPECT_EQ(aliases.resolve(other, 1), InboundTopicAliases::Result::ok);
  std::string_view again;
  EXPECT_EQ(aliases.resolve(again, 1), InboundTopicAliases::Result::ok);
  EXPECT_EQ(again, "c/d");
}

TEST(InboundTopicAliases, HoldsAtMostItsByteBudgetOfTopics) {
  InboundTopicAliases aliases(10, /*max_bytes=*/10);
  std::string_view topic = "abcd";
  EXPECT_EQ(aliases.resolve(topic, 1), InboundTopicAliases::Result::ok);
  topic = "efgh";
  EXPECT_EQ(aliases.resolve(topic, 2), InboundTopicAliases::Result::ok);
  EXPECT_EQ(aliases.bytes(), 8u);
  // A third topic would take the table to 12 bytes: refused, and not stored.
  topic = "ijkl";
  EXPECT_EQ(aliases.resolve(topic, 3), InboundTopicAliases::Result::over_budget);
  topic = "";
  EXPECT_EQ(aliases.resolve(topic, 3), InboundTopicAliases::Result::unknown_alias);
  // Redefining an alias counts the new topic in place of the old one.
  topic = "abcdef";
  EXPECT_EQ(aliases.resolve(topic, 1), InboundTopicAliases::Result::ok);
  EXPECT_EQ(aliases.bytes(), 10u);
  topic = "abcdefg";
  EXPECT_EQ(aliases.resolve(topic, 1), InboundTopicAliases::Result::over_budget);
  topic = "";
  EXPECT_EQ(aliases.resolve(topic, 1), InboundTopicAliases::Result::ok);
  EXPECT_EQ(topic, "abcdef");  // the old mapping stands
}

TEST(OutboundTopicAliases, NoAliasesWhenThePeerAllowsNone) {
  OutboundTopicAliases aliases(0);
  auto choice = aliases.choose("a");
  EXPECT_EQ(choice.alias, 0);
  EXPECT_TRUE(choice.send_topic);
}

TEST(OutboundTopicAliases, FirstUseSendsTopicAndAliasThenAliasAlone) {
  OutboundTopicAliases aliases(10);
  auto first = aliases.choose("a/b");
  EXPECT_EQ(first.alias, 1);
  EXPECT_TRUE(first.send_topic);
  auto second = aliases.choose("a/b");
  EXPECT_EQ(second.alias, 1);
  EXPECT_FALSE(second.send_topic);
  EXPECT_EQ(aliases.choose("c").alias, 2);
}

TEST(OutboundTopicAliases, NeverExceedsThePeerMaximum) {
  OutboundTopicAliases aliases(2);
  aliases.choose("a");
  aliases.choose("b");
  auto third = aliases.choose("c");
  EXPECT_EQ(third.alias, 0);  // full, and "c" is not yet used more than "a" or "b"
  EXPECT_EQ(aliases.size(), 2u);
}

TEST(OutboundTopicAliases, AFrequentTopicTakesOverTheLeastUsedAlias) {
  OutboundTopicAliases aliases(2);
  for (int i = 0; i < 5; ++i)
    aliases.choose("busy");                   // alias 1, 5 uses
  aliases.choose("rare");                     // alias 2, 1 use
  EXPECT_EQ(aliases.choose("hot").alias, 0);  // 1 use: not more than "rare"
  auto taken = aliases.choose("hot");         // 2 uses > 1
  EXPECT_EQ(taken.alias, 2);
  EXPECT_TRUE(taken.send_topic);  // the topic redefines alias 2 on the peer
  auto reuse = aliases.choose("hot");
  EXPECT_EQ(reuse.alias, 2);
  EXPECT_FALSE(reuse.send_topic);
  // "rare" lost its alias.
  EXPECT_EQ(aliases.choose("rare").alias, 0);
}

TEST(OutboundTopicAliases, CandidateCountsStayBounded) {
  OutboundTopicAliases aliases(1, 1);
  aliases.choose("kept");
  for (int i = 0; i < 1000; ++i)
    aliases.choose("t" + std::to_string(i));
  EXPECT_EQ(aliases.size(), 1u);
}

}  // namespace
}  // namespace cicada::protocol
