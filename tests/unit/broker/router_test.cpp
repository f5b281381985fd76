// Router: merging a session's overlapping subscriptions, QoS, No Local, Retain As
// Published, per-worker batches, shared groups, retained messages and their limits, and
// the session registry. The Dispatch callback records what each worker would receive.
#include "broker/core/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cicada/topic/subscription_trie.hpp>

#include "broker/config/config.hpp"
#include "broker/core/delivery.hpp"
#include "broker/core/message.hpp"
#include "unit/broker/test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::make_message;
using testing_support::points_into;
using testing_support::QoS;

// The subscription options byte (MQTT 5.0 section 3.8.3.1).
constexpr std::uint8_t no_local_bit = 0x04;
constexpr std::uint8_t rap_bit = 0x08;
constexpr std::uint8_t options(QoS qos, std::uint8_t flags = 0) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(qos) | flags);
}

struct Dispatched {
  std::uint32_t worker;
  std::vector<Delivery> batch;
};

class RouterTest : public ::testing::Test {
 protected:
  // The router keeps a reference to `config`: change it before calling this.
  void make_router(std::uint32_t workers) {
    router = std::make_unique<Router>(config, workers,
                                      [this](std::uint32_t worker, std::vector<Delivery>&& batch) {
                                        dispatched.push_back({worker, std::move(batch)});
                                      });
  }
  void SetUp() override { make_router(1); }

  SessionHandlePtr claim(const std::string& client_id, std::uint32_t worker = 0) {
    Router::Claim claim = router->claim(client_id, worker);
    EXPECT_FALSE(claim.existed) << client_id;
    return claim.handle;
  }
  bool subscribe(const SessionHandlePtr& handle, std::string_view filter, std::uint8_t opts,
                 std::uint32_t identifier = 0) {
    return router->subscribe(
        filter, topic::SubscriptionEntry{
                    .subscriber = handle->id(), .options = opts, .identifier = identifier});
  }
  void publish(std::string_view topic_name, std::string_view payload, QoS qos, bool retain = false,
               std::uint64_t publisher = 0) {
    auto message = make_message(topic_name, payload, qos, retain);
    message->publisher = publisher;
    router->publish(message, 0);
  }
  // Every delivery of every batch, in dispatch order.
  std::vector<Delivery> deliveries() const {
    std::vector<Delivery> out;
    for (const Dispatched& d : dispatched)
      out.insert(out.end(), d.batch.begin(), d.batch.end());
    return out;
  }
  std::vector<Delivery> deliveries_to(const SessionHandlePtr& handle) const {
    std::vector<Delivery> out;
    for (const Delivery& delivery : deliveries()) {
      if (delivery.session == handle) out.push_back(delivery);
    }
    return out;
  }

  Config config;
  std::unique_ptr<Router> router;
  std::vector<Dispatched> dispatched;
};

std::vector<std::uint32_t> sorted(std::vector<std::uint32_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// --- matching and merging --------------------------------------------------------------

TEST_F(RouterTest, OverlappingSubscriptionsGiveOneDeliveryAtTheHighestQos) {
  const auto a = claim("a");
  ASSERT_TRUE(subscribe(a, "s/+", options(QoS::at_least_once), 1));
  ASSERT_TRUE(subscribe(a, "s/#", options(QoS::exactly_once), 2));
  ASSERT_TRUE(subscribe(a, "s/x", options(QoS::at_most_once)));  // no identifier
  publish("s/x", "m", QoS::exactly_once);

  ASSERT_EQ(dispatched.size(), 1u);
  ASSERT_EQ(dispatched[0].batch.size(), 1u) << "[MQTT-3.3.4-2]";
  const Delivery& delivery = dispatched[0].batch[0];
  EXPECT_EQ(delivery.session, a);
  EXPECT_EQ(delivery.message->payload, "m");
  EXPECT_EQ(delivery.options.qos, QoS::exactly_once);
  EXPECT_EQ(sorted(delivery.options.subscription_ids), (std::vector<std::uint32_t>{1, 2}))
      << "[MQTT-3.3.4-4] every matching subscription's identifier";
}

TEST_F(RouterTest, EverySessionGetsItsOwnDelivery) {
  const auto a = claim("a");
  const auto b = claim("b");
  const auto c = claim("c");
  subscribe(a, "s/#", options(QoS::at_least_once), 7);
  subscribe(b, "s/x", options(QoS::at_most_once));
  subscribe(c, "other", options(QoS::at_least_once));
  publish("s/x", "m", QoS::at_least_once);

  ASSERT_EQ(deliveries_to(a).size(), 1u);
  ASSERT_EQ(deliveries_to(b).size(), 1u);
  EXPECT_TRUE(deliveries_to(c).empty());
  EXPECT_EQ(deliveries_to(a)[0].options.subscription_ids, std::vector<std::uint32_t>{7});
  EXPECT_TRUE(deliveries_to(b)[0].options.subscription_ids.empty());
  EXPECT_EQ(router->published(), 1u);
}

TEST_F(RouterTest, NoSubscriberNoDispatch) {
  publish("nobody/listens", "m", QoS::at_least_once);
  EXPECT_TRUE(dispatched.empty());
  EXPECT_EQ(router->published(), 1u);
}

struct QosCase {
  QoS message;
  QoS subscription;
  QoS delivered;
};

void PrintTo(const QosCase& c, std::ostream* os) {
  *os << "message QoS " << static_cast<int>(c.message) << ", subscription QoS "
      << static_cast<int>(c.subscription);
}

class DeliveredQos : public RouterTest, public ::testing::WithParamInterface<QosCase> {};

TEST_P(DeliveredQos, IsTheLowerOfMessageAndSubscription) {
  const QosCase& c = GetParam();
  const auto a = claim("a");
  subscribe(a, "t", options(c.subscription));
  publish("t", "m", c.message);
  ASSERT_EQ(deliveries().size(), 1u);
  EXPECT_EQ(deliveries()[0].options.qos, c.delivered) << "[MQTT-3.8.4-8]";
}

INSTANTIATE_TEST_SUITE_P(
    Router, DeliveredQos,
    ::testing::Values(QosCase{QoS::at_most_once, QoS::at_most_once, QoS::at_most_once},
                      QosCase{QoS::at_most_once, QoS::exactly_once, QoS::at_most_once},
                      QosCase{QoS::at_least_once, QoS::at_most_once, QoS::at_most_once},
                      QosCase{QoS::at_least_once, QoS::exactly_once, QoS::at_least_once},
                      QosCase{QoS::exactly_once, QoS::at_least_once, QoS::at_least_once},
                      QosCase{QoS::exactly_once, QoS::exactly_once, QoS::exactly_once}));

TEST_F(RouterTest, MergedQosIsStillCappedByTheMessage) {
  const auto a = claim("a");
  subscribe(a, "t/#", options(QoS::exactly_once));
  subscribe(a, "t/+", options(QoS::at_most_once));
  publish("t/x", "m", QoS::at_least_once);
  ASSERT_EQ(deliveries().size(), 1u);
  EXPECT_EQ(deliveries()[0].options.qos, QoS::at_least_once);
}

TEST_F(RouterTest, NoLocalSkipsThePublishersOwnSession) {
  const auto a = claim("a");
  const auto b = claim("b");
  subscribe(a, "t", options(QoS::at_least_once, no_local_bit));
  subscribe(b, "t", options(QoS::at_least_once, no_local_bit));
  publish("t", "m", QoS::at_least_once, false, a->id());
  EXPECT_TRUE(deliveries_to(a).empty()) << "[MQTT-3.8.3-3]";
  EXPECT_EQ(deliveries_to(b).size(), 1u) << "No Local concerns only the publisher";

  dispatched.clear();
  publish("t", "m", QoS::at_least_once, false, /*publisher=*/0);  // from the broker
  EXPECT_EQ(deliveries_to(a).size(), 1u);
}

TEST_F(RouterTest, NoLocalSkipsOnlyThatSubscription) {
  const auto a = claim("a");
  subscribe(a, "t", options(QoS::exactly_once, no_local_bit), 1);
  subscribe(a, "#", options(QoS::at_least_once), 2);
  publish("t", "m", QoS::exactly_once, false, a->id());
  ASSERT_EQ(deliveries_to(a).size(), 1u);
  EXPECT_EQ(deliveries_to(a)[0].options.qos, QoS::at_least_once);
  EXPECT_EQ(deliveries_to(a)[0].options.subscription_ids, std::vector<std::uint32_t>{2});
}

struct RetainCase {
  bool message_retain;
  bool retain_as_published;
  bool delivered_retain;
};

void PrintTo(const RetainCase& c, std::ostream* os) {
  *os << (c.message_retain ? "retained" : "not retained") << (c.retain_as_published ? ", RAP" : "");
}

class RetainFlag : public RouterTest, public ::testing::WithParamInterface<RetainCase> {};

TEST_P(RetainFlag, IsKeptOnlyWithRetainAsPublished) {
  const RetainCase& c = GetParam();
  const auto a = claim("a");
  const auto s = claim("s");
  subscribe(a, "t", options(QoS::at_least_once, c.retain_as_published ? rap_bit : 0));
  subscribe(s, "$share/g/t", options(QoS::at_least_once, c.retain_as_published ? rap_bit : 0));
  publish("t", "m", QoS::at_least_once, c.message_retain);
  ASSERT_EQ(deliveries_to(a).size(), 1u);
  ASSERT_EQ(deliveries_to(s).size(), 1u);
  // [MQTT-3.3.1-12] [MQTT-3.3.1-13]
  EXPECT_EQ(deliveries_to(a)[0].options.retain, c.delivered_retain);
  EXPECT_EQ(deliveries_to(s)[0].options.retain, c.delivered_retain) << "shared";
  // The message itself is shared, unchanged, by every subscriber.
  EXPECT_EQ(deliveries_to(a)[0].message->retain, c.message_retain);
}

INSTANTIATE_TEST_SUITE_P(Router, RetainFlag,
                         ::testing::Values(RetainCase{false, false, false},
                                           RetainCase{false, true, false},
                                           RetainCase{true, false, false},
                                           RetainCase{true, true, true}));

TEST_F(RouterTest, OneSubscriptionOfTwoWithRetainAsPublishedKeepsTheFlag) {
  const auto a = claim("a");
  subscribe(a, "t/#", options(QoS::at_least_once));
  subscribe(a, "t/x", options(QoS::at_least_once, rap_bit));
  publish("t/x", "m", QoS::at_least_once, true);
  ASSERT_EQ(deliveries_to(a).size(), 1u);
  EXPECT_TRUE(deliveries_to(a)[0].options.retain);
}

TEST_F(RouterTest, UnsubscribeStopsDeliveryAndResubscribeReplacesOptions) {
  const auto a = claim("a");
  EXPECT_TRUE(subscribe(a, "t", options(QoS::at_most_once), 1));
  EXPECT_FALSE(subscribe(a, "t", options(QoS::exactly_once), 2)) << "[MQTT-3.8.4-3] replaced";
  publish("t", "m", QoS::exactly_once);
  ASSERT_EQ(deliveries().size(), 1u);
  EXPECT_EQ(deliveries()[0].options.qos, QoS::exactly_once);
  EXPECT_EQ(deliveries()[0].options.subscription_ids, std::vector<std::uint32_t>{2});

  dispatched.clear();
  EXPECT_TRUE(router->unsubscribe("t", a->id()));
  EXPECT_FALSE(router->unsubscribe("t", a->id()));
  publish("t", "m", QoS::exactly_once);
  EXPECT_TRUE(dispatched.empty());
}

// --- batches per worker ----------------------------------------------------------------

TEST_F(RouterTest, DeliveriesAreBatchedPerOwningWorker) {
  make_router(3);
  const auto a = claim("a", 0);
  const auto b = claim("b", 2);
  const auto c = claim("c", 2);
  for (const auto& handle : {a, b, c})
    subscribe(handle, "t", options(QoS::at_least_once));
  publish("t", "m", QoS::at_least_once);

  std::map<std::uint32_t, std::vector<SessionHandlePtr>> by_worker;
  for (const Dispatched& d : dispatched) {
    EXPECT_FALSE(by_worker.contains(d.worker)) << "one batch per worker per publish";
    EXPECT_FALSE(d.batch.empty());
    for (const Delivery& delivery : d.batch)
      by_worker[d.worker].push_back(delivery.session);
  }
  EXPECT_EQ(dispatched.size(), 2u);
  EXPECT_EQ(by_worker[0], std::vector<SessionHandlePtr>{a});
  ASSERT_EQ(by_worker[2].size(), 2u);
  EXPECT_TRUE(std::count(by_worker[2].begin(), by_worker[2].end(), b) == 1 &&
              std::count(by_worker[2].begin(), by_worker[2].end(), c) == 1);
  EXPECT_FALSE(by_worker.contains(1));
  // Every delivery shares the one message.
  const auto all = deliveries();
  for (const Delivery& delivery : all)
    EXPECT_EQ(delivery.message, all[0].message);
}

TEST_F(RouterTest, BatchFollowsASessionThatMovedWorker) {
  make_router(2);
  const auto a = claim("a", 0);
  subscribe(a, "t", options(QoS::at_least_once));
  a->worker.store(1);  // the client reconnected on worker 1 and its session moved there
  publish("t", "m", QoS::at_least_once);
  ASSERT_EQ(dispatched.size(), 1u);
  EXPECT_EQ(dispatched[0].worker, 1u);
}

// --- shared subscriptions [MQTT-4.8.2] -------------------------------------------------

TEST_F(RouterTest, SharedGroupDeliversToExactlyOneMemberRoundRobin) {
  make_router(2);
  std::vector<SessionHandlePtr> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(claim("member" + std::to_string(i), static_cast<std::uint32_t>(i % 2)));
    subscribe(members.back(), "$share/workers/jobs/#", options(QoS::at_least_once), 9);
  }
  const auto plain = claim("plain");
  subscribe(plain, "jobs/#", options(QoS::at_least_once));

  for (int i = 0; i < 6; ++i) {
    const std::size_t before = deliveries().size();
    publish("jobs/" + std::to_string(i), "m", QoS::at_least_once);
    const auto all = deliveries();
    std::size_t to_members = 0;
    for (std::size_t d = before; d < all.size(); ++d) {
      if (all[d].session != plain) ++to_members;
    }
    EXPECT_EQ(to_members, 1u) << "[MQTT-4.8.2-3] message " << i;
  }
  for (const auto& member : members) {
    EXPECT_EQ(deliveries_to(member).size(), 2u) << member->client_id << ": round robin";
    for (const Delivery& delivery : deliveries_to(member))
      EXPECT_EQ(delivery.options.subscription_ids, std::vector<std::uint32_t>{9});
  }
  EXPECT_EQ(deliveries_to(plain).size(), 6u) << "non-shared subscribers get every message";
}

TEST_F(RouterTest, EachSharedGroupGetsItsOwnCopy) {
  const auto a = claim("a");
  const auto b = claim("b");
  subscribe(a, "$share/g1/t", options(QoS::at_least_once));
  subscribe(b, "$share/g2/t", options(QoS::at_least_once));
  publish("t", "m", QoS::at_least_once);
  EXPECT_EQ(deliveries_to(a).size(), 1u);
  EXPECT_EQ(deliveries_to(b).size(), 1u);
}

TEST_F(RouterTest, SharedSubscriptionIsIndependentOfTheMembersOwnSubscription) {
  const auto a = claim("a");
  subscribe(a, "$share/g/t", options(QoS::at_least_once), 1);
  subscribe(a, "t", options(QoS::exactly_once), 2);
  publish("t", "m", QoS::exactly_once);
  const auto got = deliveries_to(a);
  ASSERT_EQ(got.size(), 2u);
  std::vector<std::pair<QoS, std::vector<std::uint32_t>>> seen;
  for (const Delivery& delivery : got)
    seen.emplace_back(delivery.options.qos, delivery.options.subscription_ids);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen[0], (std::pair{QoS::at_least_once, std::vector<std::uint32_t>{1}}));
  EXPECT_EQ(seen[1], (std::pair{QoS::exactly_once, std::vector<std::uint32_t>{2}}));
}

TEST_F(RouterTest, SharedDeliveryQosIsCappedByTheMessage) {
  const auto a = claim("a");
  subscribe(a, "$share/g/t", options(QoS::exactly_once));
  publish("t", "m", QoS::at_least_once);
  ASSERT_EQ(deliveries_to(a).size(), 1u);
  EXPECT_EQ(deliveries_to(a)[0].options.qos, QoS::at_least_once);
}

TEST_F(RouterTest, SharedDeliveryNamesTheSubscriptionItCameBy) {
  const auto a = claim("a");
  const auto b = claim("b");
  subscribe(a, "$share/g/t/#", options(QoS::at_least_once));
  subscribe(b, "t/#", options(QoS::at_least_once));
  publish("t/x", "m", QoS::at_least_once);
  ASSERT_EQ(deliveries_to(a).size(), 1u);
  ASSERT_EQ(deliveries_to(b).size(), 1u);
  ASSERT_NE(deliveries_to(a)[0].options.shared_subscription, nullptr);
  EXPECT_EQ(*deliveries_to(a)[0].options.shared_subscription, "$share/g/t/#");
  EXPECT_EQ(deliveries_to(b)[0].options.shared_subscription, nullptr);
}

// --- re-dispatching a shared member's messages ------------------------------------------

TEST_F(RouterTest, RedispatchSharedGoesToARemainingMemberOfThatGroup) {
  make_router(2);
  const auto gone = claim("gone", 0);
  const auto stays = claim("stays", 1);
  const auto other = claim("other", 0);
  subscribe(gone, "$share/g/t/+", options(QoS::exactly_once), 1);
  subscribe(stays, "$share/g/t/+", options(QoS::at_least_once, rap_bit), 2);
  subscribe(other, "$share/h/t/+", options(QoS::exactly_once), 3);  // another group
  subscribe(other, "$share/g/t/#", options(QoS::exactly_once), 4);  // another filter
  ASSERT_TRUE(router->unsubscribe("$share/g/t/+", gone->id()));     // its session ended

  router->redispatch_shared(make_message("t/x", "m", QoS::exactly_once, true), "$share/g/t/+");
  ASSERT_EQ(dispatched.size(), 1u);
  EXPECT_EQ(dispatched[0].worker, 1u);
  ASSERT_EQ(dispatched[0].batch.size(), 1u);
  const Delivery& delivery = dispatched[0].batch[0];
  EXPECT_EQ(delivery.session, stays);
  EXPECT_EQ(delivery.message->payload, "m");
  EXPECT_EQ(delivery.options.qos, QoS::at_least_once);
  EXPECT_TRUE(delivery.options.retain);
  EXPECT_EQ(delivery.options.subscription_ids, std::vector<std::uint32_t>{2});
  ASSERT_NE(delivery.options.shared_subscription, nullptr);
  EXPECT_EQ(*delivery.options.shared_subscription, "$share/g/t/+");
}

TEST_F(RouterTest, RedispatchSharedWithNoMemberLeftDropsTheMessage) {
  const auto other = claim("other");
  subscribe(other, "$share/h/t", options(QoS::at_least_once));
  subscribe(other, "t", options(QoS::at_least_once));
  router->redispatch_shared(make_message("t", "m"), "$share/g/t");
  router->redispatch_shared(make_message("t", "m"), "t");  // not a shared subscription
  EXPECT_TRUE(dispatched.empty());
}

// --- retained messages [MQTT-3.3.1-5] [MQTT-3.3.1-6] -----------------------------------

std::vector<std::string> payloads_of(const std::vector<MessagePtr>& messages) {
  std::vector<std::string> out;
  for (const MessagePtr& message : messages)
    out.emplace_back(message->payload);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(RouterTest, RetainedMessageIsStoredReplacedAndDeleted) {
  publish("r/a", "one", QoS::at_least_once, true);
  EXPECT_EQ(router->retained_count(), 1u);
  auto found = router->retained_for("r/a", 10);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->payload, "one");
  EXPECT_EQ(found[0]->topic, "r/a");
  EXPECT_TRUE(found[0]->retain);
  EXPECT_TRUE(points_into(found[0]->payload, found[0]->owner)) << "a compacted copy";

  publish("r/a", "two", QoS::at_least_once, true);
  EXPECT_EQ(router->retained_count(), 1u);
  EXPECT_EQ(payloads_of(router->retained_for("r/#", 10)), std::vector<std::string>{"two"});

  publish("r/a", "not retained", QoS::at_least_once, false);
  EXPECT_EQ(payloads_of(router->retained_for("r/#", 10)), std::vector<std::string>{"two"});

  publish("r/a", "", QoS::at_least_once, true);
  EXPECT_EQ(router->retained_count(), 0u);
  EXPECT_TRUE(router->retained_for("r/#", 10).empty());
}

TEST_F(RouterTest, RetainedDeletionIsStillForwarded) {
  const auto a = claim("a");
  subscribe(a, "r/#", options(QoS::at_least_once, rap_bit));
  publish("r/a", "one", QoS::at_least_once, true);
  publish("r/a", "", QoS::at_least_once, true);
  const auto got = deliveries_to(a);
  ASSERT_EQ(got.size(), 2u) << "a zero-byte retained message is processed normally";
  EXPECT_TRUE(got[1].message->payload.empty());
}

TEST_F(RouterTest, RetainedForMatchesTheFilterUpToTheLimit) {
  for (const char* name : {"r/1", "r/2", "r/3", "r/4", "r/5", "other/x", "$SYS/x"})
    publish(name, name, QoS::at_most_once, true);
  EXPECT_EQ(router->retained_count(), 7u);
  EXPECT_EQ(router->retained_for("r/#", 100).size(), 5u);
  EXPECT_EQ(router->retained_for("r/#", 3).size(), 3u);
  EXPECT_TRUE(router->retained_for("r/#", 0).empty());
  EXPECT_EQ(payloads_of(router->retained_for("+/x", 100)), std::vector<std::string>{"other/x"})
      << "[MQTT-4.7.2-1]";
  EXPECT_EQ(router->retained_for("#", 100).size(), 6u);
  EXPECT_EQ(payloads_of(router->retained_for("r/3", 100)), std::vector<std::string>{"r/3"});
}

struct RetainerSwitch {
  bool retainer_enable;
  bool retain_available;
};

class RetainerOff : public RouterTest, public ::testing::WithParamInterface<RetainerSwitch> {};

TEST_P(RetainerOff, StoresNothing) {
  config.retainer_enable = GetParam().retainer_enable;
  config.retain_available = GetParam().retain_available;
  make_router(1);
  publish("r/a", "one", QoS::at_least_once, true);
  EXPECT_EQ(router->retained_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Router, RetainerOff,
                         ::testing::Values(RetainerSwitch{false, true}, RetainerSwitch{true, false},
                                           RetainerSwitch{false, false}));

TEST_F(RouterTest, RetainedPayloadAboveTheLimitIsRefused) {
  config.retainer_max_payload_size = 4;
  make_router(1);
  const auto a = claim("a");
  subscribe(a, "r/#", options(QoS::at_least_once));
  publish("r/a", "1234", QoS::at_least_once, true);
  publish("r/b", "12345", QoS::at_least_once, true);
  EXPECT_EQ(router->retained_count(), 1u);
  EXPECT_EQ(router->stats().retained_refused_payload_size.load(), 1u);
  EXPECT_EQ(deliveries_to(a).size(), 2u) << "refused for storage, still routed";
}

TEST_F(RouterTest, RetainedCountLimitRefusesNewTopicsButNotReplacements) {
  config.retainer_max_retained_messages = 2;
  make_router(1);
  publish("r/a", "1", QoS::at_least_once, true);
  publish("r/b", "2", QoS::at_least_once, true);
  publish("r/c", "3", QoS::at_least_once, true);
  EXPECT_EQ(router->retained_count(), 2u);
  EXPECT_EQ(router->stats().retained_refused_count.load(), 1u);
  publish("r/a", "1b", QoS::at_least_once, true);  // a replacement, not one more
  EXPECT_EQ(router->stats().retained_refused_count.load(), 1u);
  EXPECT_EQ(payloads_of(router->retained_for("r/#", 10)), (std::vector<std::string>{"1b", "2"}));
  publish("r/b", "", QoS::at_least_once, true);
  publish("r/c", "3", QoS::at_least_once, true);
  EXPECT_EQ(payloads_of(router->retained_for("r/#", 10)), (std::vector<std::string>{"1b", "3"}));
}

TEST_F(RouterTest, RetainedBytesLimitCountsReplacedAndDeletedPayloads) {
  config.retainer_max_bytes = 10;
  make_router(1);
  publish("r/a", "123456", QoS::at_least_once, true);  // 6 bytes
  publish("r/b", "12345", QoS::at_least_once, true);   // 11 > 10: refused
  EXPECT_EQ(router->retained_count(), 1u);
  EXPECT_EQ(router->stats().retained_refused_bytes.load(), 1u);

  publish("r/a", "123456789", QoS::at_least_once, true);  // replaces 6 with 9: 9 bytes
  EXPECT_EQ(router->stats().retained_refused_bytes.load(), 1u);
  publish("r/b", "12", QoS::at_least_once, true);  // 11: refused
  EXPECT_EQ(router->stats().retained_refused_bytes.load(), 2u);
  publish("r/a", "1", QoS::at_least_once, true);          // 1 byte
  publish("r/b", "123456789", QoS::at_least_once, true);  // 10: fits exactly
  EXPECT_EQ(router->retained_count(), 2u);
  publish("r/b", "", QoS::at_least_once, true);           // 1 byte left
  publish("r/c", "123456789", QoS::at_least_once, true);  // 10 again
  EXPECT_EQ(router->stats().retained_refused_bytes.load(), 2u);
  EXPECT_EQ(payloads_of(router->retained_for("r/#", 10)),
            (std::vector<std::string>{"1", "123456789"}));
}

// --- the session registry --------------------------------------------------------------

TEST_F(RouterTest, ClaimCreatesThenFindsTheHandle) {
  const Router::Claim first = router->claim("c1", 3);
  EXPECT_FALSE(first.existed);
  ASSERT_NE(first.handle, nullptr);
  EXPECT_EQ(first.handle->client_id, "c1");
  EXPECT_EQ(first.handle->worker.load(), 3u);
  EXPECT_EQ(router->session_count(), 1u);

  const Router::Claim second = router->claim("c1", 5);
  EXPECT_TRUE(second.existed);
  EXPECT_EQ(second.handle, first.handle);
  EXPECT_EQ(router->session_count(), 1u);
  EXPECT_NE(router->claim("c2", 0).handle, first.handle);
  EXPECT_EQ(router->session_count(), 2u);
}

TEST_F(RouterTest, ReleaseWaitsForPendingTakeovers) {
  const auto handle = router->claim("c1", 0).handle;
  EXPECT_TRUE(router->claim("c1", 1).existed);
  EXPECT_TRUE(router->claim("c1", 1).existed);  // two takeovers under way

  EXPECT_FALSE(router->release(handle)) << "the new owner still needs the session";
  router->takeover_finished(handle);
  EXPECT_FALSE(router->release(handle));
  router->takeover_finished(handle);
  EXPECT_TRUE(router->release(handle));
  EXPECT_EQ(router->session_count(), 0u);

  const Router::Claim fresh = router->claim("c1", 0);
  EXPECT_FALSE(fresh.existed);
  EXPECT_NE(fresh.handle, handle);
}

TEST_F(RouterTest, ReleaseOfAStaleHandleLeavesTheCurrentOne) {
  const auto old_handle = router->claim("c1", 0).handle;
  ASSERT_TRUE(router->release(old_handle));
  const auto current = router->claim("c1", 0).handle;
  EXPECT_TRUE(router->release(old_handle)) << "not registered: nothing to keep";
  EXPECT_EQ(router->session_count(), 1u);
  router->takeover_finished(old_handle);  // ignored
  EXPECT_TRUE(router->claim("c1", 0).existed);
  EXPECT_FALSE(router->release(current));
}

}  // namespace
}  // namespace cicada::broker
