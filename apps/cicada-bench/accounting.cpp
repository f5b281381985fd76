#include "accounting.hpp"

#include <unordered_map>
#include <unordered_set>

#include <cicada/topic/topic.hpp>

namespace cicada::bench {
namespace {

// Checking every (subscriber, publisher) pair for a match costs subscribers x
// publishers; above this the silent pairs are left out and the note says so.
constexpr std::uint64_t max_pairs = 10'000'000;

std::uint64_t pair_key(std::uint32_t subscriber, std::uint32_t publisher) {
  return std::uint64_t{subscriber} << 32 | publisher;
}

}  // namespace

LossTotals account_loss(const std::vector<const StreamTable*>& tables, const KnownRun* run) {
  LossTotals totals;
  std::unordered_map<std::uint32_t, std::uint64_t> sent;  // publisher index -> messages
  bool shared = false;
  if (run) {
    for (const PublisherInfo& p : run->publishers)
      sent[p.index] = p.sent;
    for (const SubscriberInfo& s : run->subscribers) {
      shared = shared || topic::parse_shared(s.filter).has_value();
    }
  }
  std::unordered_set<std::uint64_t> seen;
  std::unordered_map<std::uint32_t, std::uint64_t> unique_of;  // shared: per publisher
  for (const StreamTable* table : tables) {
    for (const auto& [key, stream] : *table) {
      totals.duplicates += stream.duplicates();
      totals.reordered += stream.reordered();
      const auto known = run && key.run_id == run->run_id ? sent.find(key.publisher) : sent.end();
      if (known == sent.end()) {
        // Another run, or no run known: only the gaps are certain.
        if (!shared) totals.lost += stream.missing();
      } else if (shared) {
        // Members of a share group each see part of a stream: their gaps are normal.
        unique_of[key.publisher] += stream.unique();
      } else {
        totals.lost += stream.lost_of(known->second);
        seen.insert(pair_key(key.subscriber, key.publisher));
      }
    }
  }
  if (!run) {
    totals.note = "gaps only: messages after the last one received are not known as lost";
    return totals;
  }
  if (shared) {
    for (const PublisherInfo& p : run->publishers) {
      const std::uint64_t got = unique_of[p.index];
      if (got < p.sent) totals.lost += p.sent - got;
      if (got > p.sent) totals.duplicates += got - p.sent;  // delivered to two members
    }
    totals.note = "shared subscription: counted per publisher over the group";
    return totals;
  }
  const std::uint64_t pairs = std::uint64_t{run->subscribers.size()} * run->publishers.size();
  if (pairs > max_pairs) {
    totals.note = "subscribers that received nothing from a publisher are not counted";
    return totals;
  }
  for (const SubscriberInfo& s : run->subscribers) {
    if (!s.subscribed) continue;
    for (const PublisherInfo& p : run->publishers) {
      if (p.sent == 0 || seen.contains(pair_key(s.ordinal, p.index))) continue;
      if (topic::matches(s.filter, p.topic)) totals.lost += p.sent;
    }
  }
  return totals;
}

}  // namespace cicada::bench
