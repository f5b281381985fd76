#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include <cicada/base/inbox.hpp>

namespace cicada {
namespace {

using Result = Inbox<int>::PushResult;

TEST(Inbox, WakesOnlyOnEmptyToNonEmpty) {
  Inbox<int> inbox;
  EXPECT_EQ(inbox.push(1), Result::woke);
  EXPECT_EQ(inbox.push(2), Result::queued);
  std::vector<int> out;
  inbox.drain(out);
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  EXPECT_EQ(inbox.push(3), Result::woke);
}

TEST(Inbox, RefusesBoundedPushesBeyondCapacityButNotControlItems) {
  Inbox<int> inbox(2);
  EXPECT_EQ(inbox.push(1), Result::woke);
  EXPECT_EQ(inbox.push(2), Result::queued);
  EXPECT_EQ(inbox.push(3), Result::full);
  EXPECT_EQ(inbox.push(4, /*bounded=*/false), Result::queued);
  std::vector<int> out;
  inbox.drain(out);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 4}));
}

TEST(Inbox, KeepsEachProducersOrder) {
  // Session hand-off between workers relies on this: what one thread pushes is
  // drained in the order it was pushed, whatever other producers do meanwhile.
  Inbox<int> inbox;
  constexpr int per_producer = 10000;
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&inbox, p] {
      for (int i = 0; i < per_producer; ++i)
        inbox.push(p * per_producer + i);
    });
  }
  std::vector<int> all;
  std::vector<int> out;
  while (all.size() < 2 * per_producer) {
    inbox.drain(out);
    all.insert(all.end(), out.begin(), out.end());
  }
  for (auto& producer : producers)
    producer.join();
  int last[2] = {-1, -1};
  for (int value : all) {
    int p = value / per_producer;
    EXPECT_GT(value % per_producer, last[p]);
    last[p] = value % per_producer;
  }
}

}  // namespace
}  // namespace cicada
