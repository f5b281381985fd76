// Routing a message allocates nothing once the router's per-thread scratch space has
// grown (the Message itself is the publisher's allocation): a fan-out to 100
// subscribers over two workers, as in bench/broker_bench.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "broker/config/config.hpp"
#include "broker/core/delivery.hpp"
#include "broker/core/router.hpp"
#include "unit/broker/test_support.hpp"

namespace cicada::broker {
namespace {

TEST(RouterAllocation, PublishingToSubscribersAllocatesNothingInTheSteadyState) {
  Config config;
  std::vector<Delivery> taken;
  taken.reserve(200);
  Router router(config, 2, [&taken](std::uint32_t, std::vector<Delivery>&& batch) {
    for (Delivery& delivery : batch)
      taken.push_back(std::move(delivery));
  });
  std::vector<SessionHandlePtr> handles;
  for (std::uint32_t i = 0; i < 100; ++i) {
    auto claim = router.claim("sub-" + std::to_string(i), i % 2);
    // Overlapping subscriptions of one session merge into one delivery, which sorts.
    router.subscribe("t/+", {.subscriber = claim.handle->id(), .options = 1, .identifier = 0});
    router.subscribe("t/#", {.subscriber = claim.handle->id(), .options = 0, .identifier = 0});
    handles.push_back(claim.handle);
  }
  auto message = testing_support::make_message("t/x", "payload", codec::QoS::at_least_once);
  router.publish(message, 0);  // grows the scratch space
  ASSERT_EQ(taken.size(), 100u);
  taken.clear();
  const std::size_t allocations =
      cicada::testing::count_allocations([&] { router.publish(message, 0); });
  EXPECT_EQ(taken.size(), 100u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace cicada::broker
