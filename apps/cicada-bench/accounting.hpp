// Loss and duplicate accounting over every stream every subscriber saw, once the
// workers have stopped.
// Thread-safety: pure function over data owned by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics.hpp"

namespace cicada::bench {

struct PublisherInfo {
  std::uint32_t index = 0;  // as carried in the payload
  std::string_view topic;
  std::uint64_t sent = 0;
};

struct SubscriberInfo {
  std::uint32_t ordinal = 0;
  std::string_view filter;
  bool subscribed = false;  // its SUBACK granted the subscription
};

// What pubsub knows about its own run: who published how much where, who subscribed
// to what.
struct KnownRun {
  std::uint32_t run_id = 0;
  std::vector<PublisherInfo> publishers;
  std::vector<SubscriberInfo> subscribers;
};

struct LossTotals {
  std::uint64_t lost = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::string note;  // set when the figure is partial
};

// With `run` (pubsub), a stream of that run is checked against what its publisher
// sent, tail included, and a subscriber whose filter matches a publisher's topic but
// got nothing from it loses everything that publisher sent. With a shared
// subscription ($share/...) loss is counted per publisher over all subscribers.
// Streams of other runs, and every stream without `run` (sub), count their gaps only.
LossTotals account_loss(const std::vector<const StreamTable*>& tables, const KnownRun* run);

}  // namespace cicada::bench
