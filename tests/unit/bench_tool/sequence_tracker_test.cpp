// Loss and duplicate accounting of one stream.
#include "sequence_tracker.hpp"

#include <gtest/gtest.h>

namespace cicada::bench {
namespace {

using Outcome = SequenceTracker::Outcome;

TEST(SequenceTracker, InOrderStreamHasNoLoss) {
  SequenceTracker t(0);
  for (std::uint64_t i = 0; i < 1000; ++i)
    EXPECT_EQ(t.on_sequence(i), Outcome::in_order);
  EXPECT_EQ(t.unique(), 1000u);
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_EQ(t.duplicates(), 0u);
  EXPECT_EQ(t.lost_of(1000), 0u);
}

TEST(SequenceTracker, GapsCountAsMissing) {
  SequenceTracker t(0);
  t.on_sequence(0);
  EXPECT_EQ(t.on_sequence(3), Outcome::after_gap);  // 1, 2 missing
  t.on_sequence(4);
  EXPECT_EQ(t.on_sequence(10), Outcome::after_gap);  // 5..9 missing
  EXPECT_EQ(t.missing(), 7u);
  EXPECT_EQ(t.unique(), 4u);
}

TEST(SequenceTracker, MissingHeadCountsWhenTheStartIsKnown) {
  SequenceTracker t(0);
  t.on_sequence(5);
  EXPECT_EQ(t.missing(), 5u);
  SequenceTracker from_first;
  from_first.on_sequence(5);
  EXPECT_EQ(from_first.missing(), 0u);
}

TEST(SequenceTracker, LateArrivalFillsItsGap) {
  SequenceTracker t(0);
  t.on_sequence(0);
  t.on_sequence(2);
  EXPECT_EQ(t.missing(), 1u);
  EXPECT_EQ(t.on_sequence(1), Outcome::late);
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_EQ(t.reordered(), 1u);
  EXPECT_EQ(t.unique(), 3u);
  EXPECT_EQ(t.duplicates(), 0u);
}

TEST(SequenceTracker, RepeatsAreDuplicates) {
  SequenceTracker t(0);
  t.on_sequence(0);
  t.on_sequence(1);
  EXPECT_EQ(t.on_sequence(1), Outcome::duplicate);
  EXPECT_EQ(t.on_sequence(0), Outcome::duplicate);
  t.on_sequence(5);
  t.on_sequence(3);
  EXPECT_EQ(t.on_sequence(3), Outcome::duplicate);
  EXPECT_EQ(t.duplicates(), 3u);
  EXPECT_EQ(t.unique(), 4u);
  EXPECT_EQ(t.missing(), 2u);  // 2 and 4
}

TEST(SequenceTracker, WindowReachesBack64Numbers) {
  SequenceTracker t(0);
  t.on_sequence(0);
  t.on_sequence(64);                                // 1..63 missing; 0 is at distance 64 now
  EXPECT_EQ(t.on_sequence(1), Outcome::late);       // distance 62
  EXPECT_EQ(t.on_sequence(0), Outcome::duplicate);  // beyond the window: stale
  EXPECT_EQ(t.missing(), 62u);
}

TEST(SequenceTracker, BigJumpClearsTheWindow) {
  SequenceTracker t(0);
  for (std::uint64_t i = 0; i < 10; ++i)
    t.on_sequence(i);
  t.on_sequence(1000);
  EXPECT_EQ(t.missing(), 990u);
  EXPECT_EQ(t.on_sequence(999), Outcome::late);
  EXPECT_EQ(t.on_sequence(1000), Outcome::duplicate);
}

TEST(SequenceTracker, NumbersBelowTheStartAreNotPartOfTheStream) {
  SequenceTracker t(10);
  t.on_sequence(10);
  EXPECT_EQ(t.on_sequence(9), Outcome::duplicate);
  EXPECT_EQ(t.missing(), 0u);
}

TEST(SequenceTracker, LostOfAddsTheTailNeverReceived) {
  SequenceTracker t(0);
  t.on_sequence(0);
  t.on_sequence(2);
  EXPECT_EQ(t.lost_of(3), 1u);   // 1
  EXPECT_EQ(t.lost_of(10), 8u);  // 1 and 3..9
  SequenceTracker nothing(0);
  EXPECT_EQ(nothing.lost_of(5), 5u);
}

}  // namespace
}  // namespace cicada::bench
