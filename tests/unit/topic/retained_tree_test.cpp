// The retained-message tree (MQTT 5.0 section 3.3.1.3), checked against the brute-force
// matcher cicada::topic::matches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cicada/topic/retained_tree.hpp>
#include <cicada/topic/topic.hpp>

namespace cicada::topic {
namespace {

using Pairs = std::vector<std::pair<std::string, int>>;

Pairs match_all(const RetainedTree<int>& tree, std::string_view filter) {
  Pairs out;
  tree.match(filter, [&](std::string_view topic, const int& value) {
    out.emplace_back(std::string(topic), value);
  });
  std::sort(out.begin(), out.end());
  return out;
}

Pairs brute_force(const std::map<std::string, int>& model, std::string_view filter) {
  Pairs out;
  for (const auto& [topic, value] : model) {
    if (matches(filter, topic)) out.emplace_back(topic, value);
  }
  return out;  // the map is already sorted
}

std::string repeat_levels(std::string_view level, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) out += '/';
    out += level;
  }
  return out;
}

TEST(RetainedTreeTest, InsertFindErase) {
  RetainedTree<int> tree;
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.node_count(), 1U);
  EXPECT_EQ(tree.insert("a/b", 1), std::nullopt);
  EXPECT_EQ(tree.insert("a", 2), std::nullopt);
  EXPECT_EQ(tree.insert("a/b", 3), std::optional<int>(1));  // [MQTT-3.3.1-5] replaces
  EXPECT_EQ(tree.size(), 2U);
  ASSERT_NE(tree.find("a/b"), nullptr);
  EXPECT_EQ(*tree.find("a/b"), 3);
  EXPECT_EQ(*tree.find("a"), 2);
  EXPECT_EQ(tree.find("a/"), nullptr);
  EXPECT_EQ(tree.find("a/b/c"), nullptr);
  EXPECT_EQ(tree.find("b"), nullptr);

  EXPECT_EQ(tree.erase("a/b/c"), std::nullopt);
  EXPECT_EQ(tree.erase("x"), std::nullopt);
  EXPECT_EQ(tree.erase("a/b"), std::optional<int>(3));
  EXPECT_EQ(tree.erase("a/b"), std::nullopt);
  EXPECT_EQ(tree.node_count(), 2U);
  EXPECT_EQ(tree.erase("a"), std::optional<int>(2));
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.node_count(), 1U);
}

TEST(RetainedTreeTest, MatchWildcardsAndEmptyLevels) {
  RetainedTree<int> tree;
  std::map<std::string, int> model;
  int value = 0;
  for (std::string_view topic :
       {"sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
        "/", "//", "/finance", "a//b", "$SYS/monitor/Clients", "$SYS", "a/$b"}) {
    tree.insert(topic, ++value);
    model[std::string(topic)] = value;
  }
  for (std::string_view filter :
       {"#", "+", "+/+", "/+", "sport/#", "sport/+", "sport/tennis/+", "+/tennis/#", "/#", "a/+/b",
        "a//b", "+//+", "$SYS/#", "$SYS/+/+", "+/monitor/Clients", "$SYS", "a/+", "//", "+/#"}) {
    ASSERT_EQ(validate_filter(filter), TopicError::ok) << filter;
    EXPECT_EQ(match_all(tree, filter), brute_force(model, filter)) << filter;
  }
  // The parent level and the '$' rule [MQTT-4.7.2-1], spelled out.
  EXPECT_EQ(match_all(tree, "sport/tennis/player1/#"),
            (Pairs{{"sport/tennis/player1", 4}, {"sport/tennis/player1/ranking", 5}}));
  EXPECT_EQ(match_all(tree, "+/monitor/Clients"), Pairs{});
  EXPECT_EQ(match_all(tree, "$SYS/#"), (Pairs{{"$SYS", 11}, {"$SYS/monitor/Clients", 10}}));
  EXPECT_EQ(match_all(tree, "#").size(), model.size() - 2);
  EXPECT_EQ(match_all(tree, "a/+"), (Pairs{{"a/$b", 12}}));  // only the first level is special
}

TEST(RetainedTreeTest, MatchStopsEarly) {
  RetainedTree<int> tree;
  for (int i = 0; i < 100; ++i)
    tree.insert("a/" + std::to_string(i) + "/c", i);
  for (std::string_view filter : {"#", "a/+/c", "a/#", "+/+/+"}) {
    int calls = 0;
    tree.match(filter, [&](std::string_view, const int&) { return ++calls < 5; });
    EXPECT_EQ(calls, 5) << filter;
  }
  int calls = 0;
  tree.for_each([&](std::string_view, const int&) { return ++calls < 7; });
  EXPECT_EQ(calls, 7);
}

TEST(RetainedTreeTest, ForEachVisitsEverything) {
  RetainedTree<int> tree;
  std::map<std::string, int> model;
  for (int i = 0; i < 500; ++i) {
    const std::string topic = "$t/" + std::to_string(i % 7) + "/" + std::to_string(i);
    tree.insert(topic, i);
    model[topic] = i;
  }
  tree.insert("$t", -1);
  model["$t"] = -1;
  std::map<std::string, int> seen;
  tree.for_each([&](std::string_view topic, const int& value) {
    EXPECT_TRUE(seen.emplace(std::string(topic), value).second) << topic;
  });
  EXPECT_EQ(seen, model);  // '$' topics included: the sweep is not a subscription
}

TEST(RetainedTreeTest, RandomizedAgainstBruteForce) {
  std::mt19937 rng(7331);  // fixed: failures reproduce
  const std::vector<std::string> topic_levels = {"a", "b", "", "$s", "c"};
  const std::vector<std::string> filter_levels = {"a", "b", "", "$s", "+", "+", "#"};
  const auto pick = [&](const std::vector<std::string>& from) -> const std::string& {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  const auto random_text = [&](const std::vector<std::string>& levels_from, bool filter) {
    const std::size_t levels = std::uniform_int_distribution<std::size_t>(1, 4)(rng);
    std::string text;
    for (std::size_t i = 0; i < levels; ++i) {
      std::string level = pick(levels_from);
      if (filter && level == "#" && i + 1 != levels) level = "+";
      if (i != 0) text += '/';
      text += level;
    }
    if (text.empty()) text = "b";  // [MQTT-4.7.3-1] at least one character
    return text;
  };
  RetainedTree<int> tree;
  std::map<std::string, int> model;
  std::size_t matched = 0;
  for (int step = 0; step < 4000; ++step) {
    const std::string topic = random_text(topic_levels, false);
    ASSERT_EQ(validate_name(topic), TopicError::ok);
    if (std::uniform_int_distribution<int>(0, 2)(rng) != 0) {
      std::optional<int> previous;
      if (const auto it = model.find(topic); it != model.end()) previous = it->second;
      model[topic] = step;
      ASSERT_EQ(tree.insert(topic, step), previous) << topic;
    } else {
      std::optional<int> previous;
      if (const auto it = model.find(topic); it != model.end()) {
        previous = it->second;
        model.erase(it);
      }
      ASSERT_EQ(tree.erase(topic), previous) << topic;
    }
    ASSERT_EQ(tree.size(), model.size());
    if (step % 20 != 0) continue;
    for (int i = 0; i < 30; ++i) {
      const std::string filter = random_text(filter_levels, true);
      ASSERT_EQ(validate_filter(filter), TopicError::ok) << filter;
      const Pairs expected = brute_force(model, filter);
      ASSERT_EQ(match_all(tree, filter), expected)
          << "filter \"" << filter << "\" at step " << step;
      matched += expected.size();
    }
  }
  EXPECT_GT(matched, 10'000U);  // the checks were not vacuous
  for (const auto& [topic, value] : std::map<std::string, int>(model))
    ASSERT_EQ(tree.erase(topic), std::optional<int>(value));
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.node_count(), 1U);
}

TEST(RetainedTreeTest, ChurnOf100kTopicsReturnsToTheRoot) {
  RetainedTree<int> tree;
  constexpr int count = 100'000;
  const auto topic = [](int i) {
    return "a/" + std::to_string(i % 97) + "/" + std::to_string(i) + "/c";
  };
  for (int i = 0; i < count; ++i)
    ASSERT_EQ(tree.insert(topic(i), i), std::nullopt);
  EXPECT_EQ(tree.size(), static_cast<std::size_t>(count));
  std::size_t matched = 0;
  tree.match("a/5/+/c", [&](std::string_view, const int&) { ++matched; });
  EXPECT_EQ(matched, static_cast<std::size_t>(count / 97 + 1));
  for (int i = 0; i < count; ++i)
    ASSERT_EQ(tree.erase(topic(i)), std::optional<int>(i));
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.node_count(), 1U);
}

// A retained message is typically a shared, move-only or ref-counted handle.
TEST(RetainedTreeTest, MoveOnlyValues) {
  RetainedTree<std::unique_ptr<int>> tree;
  EXPECT_FALSE(tree.insert("a", std::make_unique<int>(1)).has_value());
  std::optional<std::unique_ptr<int>> previous = tree.insert("a", std::make_unique<int>(2));
  ASSERT_TRUE(previous && *previous);
  EXPECT_EQ(**previous, 1);
  EXPECT_EQ(**tree.find("a"), 2);
  int seen = 0;
  tree.match("#", [&](std::string_view topic, const std::unique_ptr<int>& value) {
    EXPECT_EQ(topic, "a");
    seen = *value;
  });
  EXPECT_EQ(seen, 2);
  std::optional<std::unique_ptr<int>> erased = tree.erase("a");
  ASSERT_TRUE(erased && *erased);
  EXPECT_EQ(**erased, 2);
}

// 65,535 bytes allow 32,768 levels; nothing may recurse once per level.
TEST(RetainedTreeTest, DeepestTopicNeitherOverflowsNorLeaks) {
  RetainedTree<int> tree;
  const std::string deep = repeat_levels("a", 32'768);
  const std::string slashes(65'535, '/');
  tree.insert(deep, 1);
  tree.insert(slashes, 2);
  tree.insert(deep.substr(0, 30'001), 3);  // "a/.../a", 15,001 levels
  EXPECT_EQ(tree.node_count(), 1U + 32'768U + 65'536U);
  EXPECT_EQ(match_all(tree, "#"), (Pairs{{slashes, 2}, {deep.substr(0, 30'001), 3}, {deep, 1}}));
  EXPECT_EQ(match_all(tree, repeat_levels("+", 32'768)), (Pairs{{deep, 1}}));
  EXPECT_EQ(match_all(tree, "a/#").size(), 2U);
  EXPECT_EQ(tree.erase(deep), std::optional<int>(1));
  EXPECT_EQ(tree.node_count(), 1U + 15'001U + 65'536U);
  // The rest is freed by the destructor.
}

}  // namespace
}  // namespace cicada::topic
