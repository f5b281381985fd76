// The subscription trie (MQTT 5.0 sections 4.7, 4.8.2, 3.8.4), checked against the
// brute-force matcher cicada::topic::matches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <cicada/topic/subscription_trie.hpp>
#include <cicada/topic/topic.hpp>

namespace cicada::topic {
namespace {

using EntryKey = std::tuple<SubscriberId, std::uint8_t, std::uint32_t>;

EntryKey key_of(const SubscriptionEntry& entry) {
  return {entry.subscriber, entry.options, entry.identifier};
}

// What one match() reported, in a canonical order.
struct Matched {
  std::vector<EntryKey> subscribers;
  // (group, inner filter) -> members
  std::map<std::pair<std::string, std::string>, std::vector<EntryKey>> groups;

  bool operator==(const Matched&) const = default;
};

Matched match_all(const SubscriptionTrie& trie, std::string_view topic) {
  Matched out;
  trie.match(
      topic, [&](const SubscriptionEntry& entry) { out.subscribers.push_back(key_of(entry)); },
      [&](std::string_view group, std::string_view filter,
          std::span<const SubscriptionEntry> members) {
        std::vector<EntryKey> keys;
        for (const SubscriptionEntry& member : members)
          keys.push_back(key_of(member));
        std::sort(keys.begin(), keys.end());
        const bool first =
            out.groups.emplace(std::pair{std::string(group), std::string(filter)}, keys).second;
        // Once per shared group per matching filter.
        EXPECT_TRUE(first) << "group " << group << " reported twice for " << filter;
      });
  std::sort(out.subscribers.begin(), out.subscribers.end());
  return out;
}

std::vector<SubscriberId> subscribers_of(const SubscriptionTrie& trie, std::string_view topic) {
  std::vector<SubscriberId> ids;
  for (const EntryKey& key : match_all(trie, topic).subscribers)
    ids.push_back(std::get<0>(key));
  return ids;
}

// The reference model: every live subscription, keyed by (full filter, subscriber).
using Model = std::map<std::pair<std::string, SubscriberId>, SubscriptionEntry>;

Matched brute_force(const Model& model, std::string_view topic) {
  Matched out;
  for (const auto& [key, entry] : model) {
    const std::string& filter = key.first;
    if (const auto shared = parse_shared(filter)) {
      if (!matches(shared->filter, topic)) continue;
      out.groups[{std::string(shared->group), std::string(shared->filter)}].push_back(
          key_of(entry));
    } else if (matches(filter, topic)) {
      out.subscribers.push_back(key_of(entry));
    }
  }
  std::sort(out.subscribers.begin(), out.subscribers.end());
  for (auto& [group, members] : out.groups)
    std::sort(members.begin(), members.end());
  return out;
}

std::string repeat_levels(std::string_view level, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) out += '/';
    out += level;
  }
  return out;
}

TEST(SubscriptionTrieTest, EmptyTrie) {
  const SubscriptionTrie trie;
  EXPECT_TRUE(trie.empty());
  EXPECT_EQ(trie.size(), 0U);
  EXPECT_EQ(trie.node_count(), 1U);
  EXPECT_EQ(match_all(trie, "a/b"), Matched{});
}

// The examples of sections 4.7.1.2, 4.7.1.3 and 4.7.2, one subscriber per filter.
TEST(SubscriptionTrieTest, SpecExamples) {
  const std::vector<std::string> filters = {"sport/tennis/player1/#",
                                            "sport/#",
                                            "#",
                                            "sport/tennis/#",
                                            "sport/tennis/+",
                                            "sport/+",
                                            "+/+",
                                            "/+",
                                            "+",
                                            "+/tennis/#",
                                            "sport/+/player1",
                                            "$SYS/#",
                                            "+/monitor/Clients",
                                            "$SYS/monitor/+"};
  SubscriptionTrie trie;
  for (std::size_t i = 0; i < filters.size(); ++i) {
    ASSERT_EQ(validate_filter(filters[i]), TopicError::ok) << filters[i];
    EXPECT_TRUE(trie.subscribe(filters[i], {.subscriber = i, .options = 0}));
  }
  const auto expect = [&](std::string_view topic, std::vector<std::string_view> expected) {
    std::vector<SubscriberId> ids;
    for (std::string_view filter : expected) {
      const auto it = std::find(filters.begin(), filters.end(), filter);
      ASSERT_NE(it, filters.end()) << filter;
      ids.push_back(static_cast<SubscriberId>(it - filters.begin()));
    }
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(subscribers_of(trie, topic), ids) << topic;
  };
  expect("sport/tennis/player1", {"sport/tennis/player1/#", "sport/#", "#", "sport/tennis/#",
                                  "sport/tennis/+", "+/tennis/#", "sport/+/player1"});
  expect("sport/tennis/player1/ranking",
         {"sport/tennis/player1/#", "sport/#", "#", "sport/tennis/#", "+/tennis/#"});
  expect("sport/tennis/player1/score/wimbledon",
         {"sport/tennis/player1/#", "sport/#", "#", "sport/tennis/#", "+/tennis/#"});
  expect("sport", {"sport/#", "#", "+"});  // '#' includes the parent level
  expect("sport/", {"sport/#", "#", "sport/+", "+/+"});
  expect("/finance", {"#", "+/+", "/+"});
  expect("sport/tennis", {"sport/#", "#", "sport/tennis/#", "sport/+", "+/+", "+/tennis/#"});
  // [MQTT-4.7.2-1] wildcards at the first level do not reach '$' topics.
  expect("$SYS/monitor/Clients", {"$SYS/#", "$SYS/monitor/+"});
  expect("$SYS", {"$SYS/#"});
  expect("a/monitor/Clients", {"#", "+/monitor/Clients"});
  // Only the first level is special: "+/+" matches "a/$b".
  expect("a/$b", {"#", "+/+"});
}

TEST(SubscriptionTrieTest, EmptyLevels) {
  SubscriptionTrie trie;
  const std::vector<std::string> filters = {"a//b",  "/", "+/+", "//",  "+//+", "/#",
                                            "a/+/b", "+", "a/",  "a/#", "#/",   "+/#"};
  // "#/" is not a valid filter; keep the table honest.
  std::vector<std::string> valid;
  for (const std::string& filter : filters) {
    if (validate_filter(filter) == TopicError::ok) valid.push_back(filter);
  }
  ASSERT_EQ(valid.size(), filters.size() - 1);
  Model model;
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const SubscriptionEntry entry{.subscriber = i, .options = 1, .identifier = 0};
    trie.subscribe(valid[i], entry);
    model[{valid[i], i}] = entry;
  }
  for (std::string_view topic : {"a//b", "/", "//", "a/", "a", "/a", "a/x/b", "a//", "///"}) {
    EXPECT_EQ(match_all(trie, topic), brute_force(model, topic)) << '"' << topic << '"';
  }
  // "a//b", "+//+", "a/+/b", "a/#" and "+/#"; not "/#", "+/+" or "//".
  EXPECT_EQ(subscribers_of(trie, "a//b").size(), 5U);
}

TEST(SubscriptionTrieTest, SubscribeReplacesAndKeepsOne) {
  SubscriptionTrie trie;
  EXPECT_TRUE(trie.subscribe("a/+", {.subscriber = 7, .options = 1, .identifier = 10}));
  EXPECT_FALSE(trie.subscribe("a/+", {.subscriber = 7, .options = 2, .identifier = 11}));
  EXPECT_TRUE(trie.subscribe("a/+", {.subscriber = 8, .options = 0}));
  EXPECT_EQ(trie.size(), 2U);
  const Matched matched = match_all(trie, "a/b");
  EXPECT_EQ(matched.subscribers, (std::vector<EntryKey>{{7, 2, 11}, {8, 0, 0}}));

  // A different filter of the same subscriber is a separate subscription; the caller
  // merges overlaps.
  EXPECT_TRUE(trie.subscribe("a/#", {.subscriber = 7, .options = 0}));
  EXPECT_EQ(trie.size(), 3U);
  EXPECT_EQ(subscribers_of(trie, "a/b"), (std::vector<SubscriberId>{7, 7, 8}));
}

TEST(SubscriptionTrieTest, UnsubscribeMissingChangesNothing) {
  SubscriptionTrie trie;
  EXPECT_FALSE(trie.unsubscribe("a/b", 1));  // empty trie
  ASSERT_TRUE(trie.subscribe("a/b/c", {.subscriber = 1, .options = 0}));
  ASSERT_TRUE(trie.subscribe("$share/g/a/b", {.subscriber = 1, .options = 0}));
  const std::size_t nodes = trie.node_count();
  EXPECT_FALSE(trie.unsubscribe("a/b", 1));             // an inner node, no subscription
  EXPECT_FALSE(trie.unsubscribe("a/b/c", 2));           // other subscriber
  EXPECT_FALSE(trie.unsubscribe("a/b/c/d", 1));         // below the deepest node
  EXPECT_FALSE(trie.unsubscribe("a/+/c", 1));           // missing '+' child
  EXPECT_FALSE(trie.unsubscribe("a/b/#", 1));           // missing '#' child
  EXPECT_FALSE(trie.unsubscribe("$share/h/a/b", 1));    // other group
  EXPECT_FALSE(trie.unsubscribe("$share/g/a/b/c", 1));  // non-shared filter as shared
  EXPECT_FALSE(trie.unsubscribe("$share/g/a/b", 2));    // not a member
  EXPECT_EQ(trie.size(), 2U);
  EXPECT_EQ(trie.node_count(), nodes);
  EXPECT_TRUE(trie.unsubscribe("a/b/c", 1));
  EXPECT_FALSE(trie.unsubscribe("a/b/c", 1));  // already gone
  EXPECT_TRUE(trie.unsubscribe("$share/g/a/b", 1));
  EXPECT_TRUE(trie.empty());
  EXPECT_EQ(trie.node_count(), 1U);
}

TEST(SubscriptionTrieTest, PruningKeepsSharedPrefixes) {
  SubscriptionTrie trie;
  trie.subscribe("a/b/c/d", {.subscriber = 1, .options = 0});
  EXPECT_EQ(trie.node_count(), 5U);
  trie.subscribe("a/b/x", {.subscriber = 2, .options = 0});
  EXPECT_EQ(trie.node_count(), 6U);
  trie.subscribe("a/b", {.subscriber = 3, .options = 0});
  trie.subscribe("a/b/+/#", {.subscriber = 4, .options = 0});
  EXPECT_EQ(trie.node_count(), 8U);

  EXPECT_TRUE(trie.unsubscribe("a/b/c/d", 1));  // frees c and d only
  EXPECT_EQ(trie.node_count(), 6U);
  EXPECT_TRUE(trie.unsubscribe("a/b", 3));  // b still has children
  EXPECT_EQ(trie.node_count(), 6U);
  EXPECT_TRUE(trie.unsubscribe("a/b/+/#", 4));
  EXPECT_EQ(trie.node_count(), 4U);
  EXPECT_EQ(subscribers_of(trie, "a/b/x"), std::vector<SubscriberId>{2});
  EXPECT_TRUE(trie.unsubscribe("a/b/x", 2));
  EXPECT_EQ(trie.node_count(), 1U);
  EXPECT_TRUE(trie.empty());

  // A node with subscriptions of its own stops the pruning.
  trie.subscribe("a", {.subscriber = 1, .options = 0});
  trie.subscribe("a/b/c", {.subscriber = 1, .options = 0});
  EXPECT_TRUE(trie.unsubscribe("a/b/c", 1));
  EXPECT_EQ(trie.node_count(), 2U);
  EXPECT_EQ(subscribers_of(trie, "a"), std::vector<SubscriberId>{1});
}

// Memory must follow the live subscriptions, not the history of churn.
TEST(SubscriptionTrieTest, ChurnOf100kFiltersReturnsToTheRoot) {
  SubscriptionTrie trie;
  constexpr std::size_t count = 100'000;
  const auto filter = [](std::size_t i) {
    switch (i % 4) {
      case 0:
        return "building/" + std::to_string(i) + "/floor/" + std::to_string(i % 7) + "/+";
      case 1:
        return "sensors/" + std::to_string(i) + "/#";
      case 2:
        return "$share/g" + std::to_string(i % 3) + "/+/" + std::to_string(i);
      default:
        return std::to_string(i) + "//" + std::to_string(i);
    }
  };
  for (std::size_t i = 0; i < count; ++i)
    ASSERT_TRUE(trie.subscribe(filter(i), {.subscriber = i, .options = 1}));
  EXPECT_EQ(trie.size(), count);
  EXPECT_GT(trie.node_count(), count);
  EXPECT_EQ(subscribers_of(trie, "building/8/floor/1/x"), std::vector<SubscriberId>{8});
  for (std::size_t i = 0; i < count; ++i)
    ASSERT_TRUE(trie.unsubscribe(filter(i), i));
  EXPECT_TRUE(trie.empty());
  EXPECT_EQ(trie.node_count(), 1U);
}

TEST(SubscriptionTrieTest, SharedGroups) {
  SubscriptionTrie trie;
  EXPECT_TRUE(trie.subscribe("$share/g1/a/+", {.subscriber = 1, .options = 1}));
  EXPECT_TRUE(trie.subscribe("$share/g1/a/+", {.subscriber = 2, .options = 2}));
  EXPECT_TRUE(trie.subscribe("$share/g2/a/+", {.subscriber = 1, .options = 0}));
  EXPECT_TRUE(trie.subscribe("$share/g1/a/#", {.subscriber = 3, .options = 0}));
  EXPECT_TRUE(trie.subscribe("a/+", {.subscriber = 4, .options = 0}));
  // Replacing a membership keeps one entry with the new options.
  EXPECT_FALSE(trie.subscribe("$share/g1/a/+", {.subscriber = 2, .options = 1, .identifier = 9}));
  EXPECT_EQ(trie.size(), 5U);

  const Matched matched = match_all(trie, "a/b");
  EXPECT_EQ(matched.subscribers, (std::vector<EntryKey>{{4, 0, 0}}));
  const decltype(Matched::groups) expected = {
      {{"g1", "a/+"}, {{1, 1, 0}, {2, 1, 9}}},
      {{"g2", "a/+"}, {{1, 0, 0}}},
      {{"g1", "a/#"}, {{3, 0, 0}}},
  };
  EXPECT_EQ(matched.groups, expected);

  // The inner filter follows the '$' rule too [MQTT-4.7.2-1].
  trie.subscribe("$share/g/#", {.subscriber = 5, .options = 0});
  EXPECT_TRUE(match_all(trie, "$SYS/x").groups.empty());
  EXPECT_EQ(match_all(trie, "x").groups.size(), 1U);

  EXPECT_TRUE(trie.unsubscribe("$share/g1/a/+", 1));
  EXPECT_TRUE(trie.unsubscribe("$share/g1/a/+", 2));  // group g1 of a/+ is now gone
  EXPECT_EQ(match_all(trie, "a/b").groups.size(), 3U);
  EXPECT_TRUE(trie.unsubscribe("$share/g2/a/+", 1));
  EXPECT_TRUE(trie.unsubscribe("$share/g1/a/#", 3));
  EXPECT_TRUE(trie.unsubscribe("$share/g/#", 5));
  EXPECT_TRUE(trie.unsubscribe("a/+", 4));
  EXPECT_TRUE(trie.empty());
  EXPECT_EQ(trie.node_count(), 1U);
}

// "$share" alone and "$sharex/..." are ordinary filters; "$share/g/$share/h/a" is group g
// on the inner filter "$share/h/a" (see validate.cpp).
TEST(SubscriptionTrieTest, ShareLookalikes) {
  SubscriptionTrie trie;
  trie.subscribe("$share", {.subscriber = 1, .options = 0});
  trie.subscribe("$sharex/a", {.subscriber = 2, .options = 0});
  trie.subscribe("$share/g/$share/h/a", {.subscriber = 3, .options = 0});
  EXPECT_EQ(subscribers_of(trie, "$share"), std::vector<SubscriberId>{1});
  EXPECT_EQ(subscribers_of(trie, "$sharex/a"), std::vector<SubscriberId>{2});
  const Matched matched = match_all(trie, "$share/h/a");
  ASSERT_EQ(matched.groups.size(), 1U);
  EXPECT_EQ(matched.groups.begin()->first,
            (std::pair<std::string, std::string>{"g", "$share/h/a"}));
}

// Random subscribe/unsubscribe sequences, checked after every step against matches().
TEST(SubscriptionTrieTest, RandomizedAgainstBruteForce) {
  std::mt19937 rng(20240607);  // fixed: failures reproduce
  const std::vector<std::string> filter_levels = {"a", "b", "", "$s", "+", "+", "#"};
  const std::vector<std::string> topic_levels = {"a", "b", "", "$s", "c"};
  const auto pick = [&](const std::vector<std::string>& from) -> const std::string& {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  const auto random_filter = [&] {
    const std::size_t levels = std::uniform_int_distribution<std::size_t>(1, 4)(rng);
    std::string filter;
    for (std::size_t i = 0; i < levels; ++i) {
      std::string level = pick(filter_levels);
      if (level == "#" && i + 1 != levels) level = "+";
      if (i != 0) filter += '/';
      filter += level;
    }
    if (filter.empty()) filter = "b";  // [MQTT-4.7.3-1] a filter has at least one character
    switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
      case 0:
        return "$share/g1/" + filter;
      case 1:
        return "$share/g2/" + filter;
      default:
        return filter;
    }
  };
  // Every topic of 1 to 3 levels over the alphabet, plus a few of 4 and 5.
  std::vector<std::string> topics;
  std::vector<std::string> frontier = {""};
  for (std::size_t depth = 1; depth <= 3; ++depth) {
    std::vector<std::string> next;
    for (const std::string& prefix : frontier) {
      for (const std::string& level : topic_levels)
        next.push_back(depth == 1 ? level : prefix + "/" + level);
    }
    // [MQTT-4.7.3-1] "" is not a topic name.
    std::copy_if(next.begin(), next.end(), std::back_inserter(topics),
                 [](const std::string& topic) { return !topic.empty(); });
    frontier = std::move(next);
  }
  for (int i = 0; i < 40; ++i) {
    std::string topic = pick(topic_levels);
    for (int level = 0; level < 3 + i % 3; ++level)
      topic += "/" + pick(topic_levels);
    topics.push_back(topic);
  }

  SubscriptionTrie trie;
  Model model;
  std::uint32_t next_identifier = 1;
  std::size_t replaced = 0;
  std::size_t missing = 0;
  std::size_t matched_subscribers = 0;
  std::size_t matched_groups = 0;
  for (int step = 0; step < 2000; ++step) {
    const std::string filter = random_filter();
    ASSERT_EQ(validate_filter(filter), TopicError::ok) << filter;
    const SubscriberId subscriber = std::uniform_int_distribution<SubscriberId>(1, 4)(rng);
    if (std::uniform_int_distribution<int>(0, 2)(rng) != 0) {
      const SubscriptionEntry entry{
          .subscriber = subscriber,
          .options = static_cast<std::uint8_t>(std::uniform_int_distribution<int>(0, 63)(rng)),
          .identifier = next_identifier++};
      const bool is_new = model.insert_or_assign({filter, subscriber}, entry).second;
      ASSERT_EQ(trie.subscribe(filter, entry), is_new) << filter;
      if (!is_new) ++replaced;
    } else {
      const bool existed = model.erase({filter, subscriber}) == 1;
      ASSERT_EQ(trie.unsubscribe(filter, subscriber), existed) << filter;
      if (!existed) ++missing;
    }
    ASSERT_EQ(trie.size(), model.size());
    if (step % 50 != 0) continue;
    for (const std::string& topic : topics) {
      const Matched expected = brute_force(model, topic);
      ASSERT_EQ(match_all(trie, topic), expected) << "topic \"" << topic << "\" at step " << step;
      matched_subscribers += expected.subscribers.size();
      matched_groups += expected.groups.size();
    }
  }
  // The sequence exercised both kinds of no-op, and the checks were not vacuous.
  EXPECT_GT(replaced, 50U);
  EXPECT_GT(missing, 50U);
  EXPECT_GT(matched_subscribers, 10'000U);
  EXPECT_GT(matched_groups, 1'000U);

  for (const auto& [key, entry] : Model(model))
    ASSERT_TRUE(trie.unsubscribe(key.first, key.second));
  EXPECT_TRUE(trie.empty());
  EXPECT_EQ(trie.node_count(), 1U);
}

// More open '+' branches than match() keeps inline: the stack spills and stays right.
TEST(SubscriptionTrieTest, ManyOpenBranches) {
  SubscriptionTrie trie;
  Model model;
  constexpr std::size_t depth = 80;
  for (std::size_t d = 0; d < depth; ++d) {
    const std::string filter = d == 0 ? "+" : repeat_levels("a", d) + "/+";
    const SubscriptionEntry entry{.subscriber = d, .options = 0};
    trie.subscribe(filter, entry);
    model[{filter, d}] = entry;
    const std::string plus_chain = repeat_levels("+", d + 1);
    const SubscriptionEntry chain_entry{.subscriber = 1000 + d, .options = 0};
    trie.subscribe(plus_chain, chain_entry);
    model[{plus_chain, 1000 + d}] = chain_entry;
  }
  for (std::size_t levels : {1U, 31U, 32U, 33U, 79U, 80U}) {
    const std::string topic = repeat_levels("a", levels);
    const Matched matched = match_all(trie, topic);
    EXPECT_EQ(matched, brute_force(model, topic)) << levels;
    EXPECT_EQ(matched.subscribers.size(), 2U) << levels;
  }
}

// 65,535 bytes allow 32,768 levels; nothing may recurse once per level.
TEST(SubscriptionTrieTest, DeepestFilterNeitherOverflowsNorLeaks) {
  SubscriptionTrie trie;
  const std::string deep = repeat_levels("a", 32'768);
  ASSERT_EQ(deep.size(), 65'535U);
  const std::string slashes(65'535, '/');
  std::string plus_deep = repeat_levels("+", 32'767) + "/#";
  ASSERT_EQ(plus_deep.size(), 65'535U);
  trie.subscribe(deep, {.subscriber = 1, .options = 0});
  trie.subscribe(slashes, {.subscriber = 2, .options = 0});
  trie.subscribe(plus_deep, {.subscriber = 3, .options = 0});
  // 32,768 "a" nodes, 65,536 empty-level nodes, 32,767 '+' nodes and one '#'.
  EXPECT_EQ(trie.node_count(), 1U + 32'768U + 65'536U + 32'768U);
  EXPECT_EQ(subscribers_of(trie, deep), (std::vector<SubscriberId>{1, 3}));
  EXPECT_EQ(subscribers_of(trie, slashes), (std::vector<SubscriberId>{2, 3}));
  EXPECT_TRUE(trie.unsubscribe(deep, 1));
  EXPECT_EQ(trie.node_count(), 1U + 65'536U + 32'768U);
  // The rest is freed by the destructor.
}

}  // namespace
}  // namespace cicada::topic
