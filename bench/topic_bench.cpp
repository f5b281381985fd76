// Subscription trie and retained tree: the per-PUBLISH match over 100k subscriptions,
// subscribe/unsubscribe churn, and a retained '+' match over 100k topics. Reports items/s
// and, for the trie match, allocations per match (must be 0: the publish hot path).
//   cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build/release topic_bench && build/release/bench/topic_bench
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/topic/retained_tree.hpp>
#include <cicada/topic/subscription_trie.hpp>

#include "alloc_counter.hpp"

namespace {

using cicada::topic::RetainedTree;
using cicada::topic::SubscriberId;
using cicada::topic::SubscriptionEntry;
using cicada::topic::SubscriptionTrie;

constexpr std::size_t subscription_count = 100'000;

// 100k filters shaped like a building-automation deployment: 50k end in '+', 30k are
// fully literal, 10k end in '#', 10k are shared ("$share/g{k}/.../floor/+/alarm", ten
// groups per filter), and two monitors ("building/+/floor/#", "#") that every topic has
// to walk past.
std::vector<std::string> make_filters() {
  std::vector<std::string> filters;
  filters.reserve(subscription_count);
  const auto floor_of = [](std::size_t building, std::size_t floor) {
    return "building/" + std::to_string(building) + "/floor/" + std::to_string(floor);
  };
  for (std::size_t building = 0; building < 1000; ++building) {
    for (std::size_t floor = 0; floor < 50; ++floor)
      filters.push_back(floor_of(building, floor) + "/+");
    for (std::size_t floor = 0; floor < 30; ++floor)
      filters.push_back(floor_of(building, floor) + "/room/" +
                        std::to_string((building + floor) % 37));
    for (std::size_t group = 0; group < 10; ++group) {
      filters.push_back("$share/g" + std::to_string(group) + "/building/" +
                        std::to_string(building) + "/floor/+/alarm");
    }
  }
  for (std::size_t device = 0; filters.size() < subscription_count - 2; ++device)
    filters.push_back("sensors/" + std::to_string(device) + "/#");
  filters.push_back("building/+/floor/#");
  filters.push_back("#");
  return filters;
}

void build(SubscriptionTrie& trie, const std::vector<std::string>& filters) {
  for (std::size_t i = 0; i < filters.size(); ++i) {
    trie.subscribe(filters[i], {.subscriber = i, .options = 1});
  }
}

void trie_match(benchmark::State& state, std::string_view topic) {
  static const std::vector<std::string> filters = make_filters();
  SubscriptionTrie trie;
  build(trie, filters);
  std::size_t allocations = 0;
  std::size_t subscribers = 0;
  std::size_t groups = 0;
  for (auto _ : state) {
    allocations += cicada::testing::count_allocations([&] {
      trie.match(
          topic,
          [&](const SubscriptionEntry& entry) {
            benchmark::DoNotOptimize(entry);
            ++subscribers;
          },
          [&](std::string_view, std::string_view, std::span<const SubscriptionEntry> members) {
            benchmark::DoNotOptimize(members.data());
            ++groups;
          });
    });
  }
  const auto per_match = [&](std::size_t n) {
    return static_cast<double>(n) / static_cast<double>(state.iterations());
  };
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs/match"] = per_match(allocations);
  state.counters["subscribers/match"] = per_match(subscribers);
  state.counters["groups/match"] = per_match(groups);
}

// A batch of fresh filters subscribed and then unsubscribed on top of the 100k, so the
// trie grows and is pruned back every iteration. One item is one subscribe or unsubscribe.
void trie_churn(benchmark::State& state) {
  static const std::vector<std::string> filters = make_filters();
  SubscriptionTrie trie;
  build(trie, filters);
  constexpr std::size_t batch = 1000;
  std::vector<std::string> fresh;
  for (std::size_t i = 0; i < batch; ++i) {
    fresh.push_back("devices/" + std::to_string(i % 100) + "/" + std::to_string(i) +
                    (i % 2 == 0 ? "/+" : "/state"));
  }
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i)
      trie.subscribe(fresh[i], {.subscriber = subscription_count + i, .options = 0});
    for (std::size_t i = 0; i < batch; ++i)
      trie.unsubscribe(fresh[i], subscription_count + i);
  }
  state.SetItemsProcessed(state.iterations() * 2 * static_cast<std::int64_t>(batch));
  state.counters["nodes"] = static_cast<double>(trie.node_count());
}

// "a/+/c" over 100k retained topics, half of which match. One item is one topic visited.
void retained_match(benchmark::State& state) {
  RetainedTree<std::uint64_t> tree;
  for (std::uint64_t i = 0; i < 100'000; ++i) {
    tree.insert("a/" + std::to_string(i / 2) + (i % 2 == 0 ? "/c" : "/d"), i);
  }
  std::size_t visited = 0;
  for (auto _ : state) {
    tree.match("a/+/c", [&](std::string_view topic, const std::uint64_t& value) {
      benchmark::DoNotOptimize(topic.data());
      benchmark::DoNotOptimize(value);
      ++visited;
    });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(visited));
  state.counters["matches/iter"] =
      static_cast<double>(visited) / static_cast<double>(state.iterations());
}

// Each topic's matches are in its counters: 3 subscribers for the first two.
BENCHMARK_CAPTURE(trie_match, literal_room, "building/42/floor/7/room/12");
BENCHMARK_CAPTURE(trie_match, plus_level, "building/42/floor/7/temperature");
BENCHMARK_CAPTURE(trie_match, shared_alarm, "building/42/floor/3/alarm");
BENCHMARK_CAPTURE(trie_match, sensors_hash, "sensors/128/temp/raw");
BENCHMARK_CAPTURE(trie_match, miss, "unknown/device/x");
BENCHMARK(trie_churn);
BENCHMARK(retained_match);

}  // namespace
