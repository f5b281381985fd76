#include "sequence_tracker.hpp"

namespace cicada::bench {

SequenceTracker::SequenceTracker(std::optional<std::uint64_t> first) noexcept {
  if (first) {
    started_ = true;
    first_ = next_ = *first;
  }
}

SequenceTracker::Outcome SequenceTracker::on_sequence(std::uint64_t sequence) noexcept {
  if (!started_) {
    started_ = true;
    first_ = next_ = sequence;
  }
  if (sequence >= next_) {
    const std::uint64_t gap = sequence - next_;
    missing_ += gap;
    // Shift the window so bit 0 is `sequence`; skipped numbers enter as unseen.
    seen_ = gap >= 63 ? 0 : seen_ << (gap + 1);
    seen_ |= 1;
    next_ = sequence + 1;
    ++unique_;
    return gap == 0 ? Outcome::in_order : Outcome::after_gap;
  }
  const std::uint64_t distance = next_ - 1 - sequence;
  if (distance >= 64 || sequence < first_) {
    ++duplicates_;  // stale: too old to tell, see the header
    return Outcome::duplicate;
  }
  const std::uint64_t bit = std::uint64_t{1} << distance;
  if (seen_ & bit) {
    ++duplicates_;
    return Outcome::duplicate;
  }
  seen_ |= bit;
  ++unique_;
  ++reordered_;
  --missing_;
  return Outcome::late;
}

std::uint64_t SequenceTracker::lost_of(std::uint64_t sent) const noexcept {
  return missing_ + (sent > next_ ? sent - next_ : 0);
}

}  // namespace cicada::bench
