// SequenceTracker: loss and duplicate accounting for one stream of sequence numbers
// (one publisher as seen by one subscriber). A number above the next expected one opens
// a gap; a number below it either fills a gap (a late, reordered arrival) or is a
// duplicate. The last 64 numbers below the highest seen are remembered in a bitmap to
// tell the two apart; anything older is counted as a duplicate ("stale"), since MQTT
// does not reorder one publisher's messages to one subscriber on one connection.
// O(1) per number, no allocation.
// Thread-safety: plain value, single owner.
#pragma once

#include <cstdint>
#include <optional>

namespace cicada::bench {

class SequenceTracker {
 public:
  enum class Outcome : std::uint8_t { in_order, after_gap, late, duplicate };

  // `first`: the first number the stream is expected to start with (0 when the
  // publisher is known to have started after the subscriber), or nullopt to start the
  // stream at whatever number arrives first.
  explicit SequenceTracker(std::optional<std::uint64_t> first = std::nullopt) noexcept;

  Outcome on_sequence(std::uint64_t sequence) noexcept;

  // Distinct numbers received.
  std::uint64_t unique() const noexcept { return unique_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  // Late arrivals that filled a gap.
  std::uint64_t reordered() const noexcept { return reordered_; }
  // Numbers below next_expected() not received: open gaps.
  std::uint64_t missing() const noexcept { return missing_; }
  std::uint64_t next_expected() const noexcept { return next_; }
  // Lost when the publisher sent numbers [first, sent): the open gaps plus the tail
  // that never arrived.
  std::uint64_t lost_of(std::uint64_t sent) const noexcept;

 private:
  bool started_ = false;
  std::uint64_t first_ = 0;  // numbers below it are not part of the stream
  std::uint64_t next_ = 0;
  std::uint64_t seen_ = 0;  // bit d: number next_ - 1 - d was received
  std::uint64_t unique_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t missing_ = 0;
};

}  // namespace cicada::bench
