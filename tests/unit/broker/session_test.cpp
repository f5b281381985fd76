// Session (MQTT 5.0 section 4.1): delivery, the Receive Maximum window, QoS 1/2 flows,
// offline queueing, resending on resumption, message and session expiry. Sans-I/O: a
// FakeSink stands for the connection and every TimePoint is made up by the test.
#include "broker/core/session.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <cicada/codec/packets.hpp>

#include "broker/core/message.hpp"
#include "unit/broker/test_support.hpp"

namespace cicada::broker {
namespace {

using namespace std::chrono_literals;
using codec::ProtocolVersion;
using testing_support::FakeSink;
using testing_support::make_message;
using testing_support::QoS;
using testing_support::SendResult;

constexpr TimePoint t0{};

DeliveryOptions with_qos(QoS qos) {
  return DeliveryOptions{.qos = qos};
}

// One line per packet, so a whole exchange compares as a list.
std::string describe(const codec::Packet& packet) {
  if (const auto* publish = std::get_if<codec::Publish>(&packet)) {
    return "PUBLISH " + std::string(publish->payload) +
           " qos=" + std::to_string(static_cast<int>(publish->qos)) +
           " id=" + std::to_string(publish->packet_id) + " dup=" + (publish->dup ? "1" : "0");
  }
  if (const auto* pubrel = std::get_if<codec::Pubrel>(&packet)) {
    return "PUBREL " + std::to_string(pubrel->packet_id);
  }
  return "packet type " + std::to_string(static_cast<int>(codec::type_of(packet)));
}

std::vector<std::string> describe(const std::vector<codec::Packet>& log) {
  std::vector<std::string> out;
  for (const codec::Packet& packet : log)
    out.push_back(describe(packet));
  return out;
}

class SessionTest : public ::testing::Test {
 protected:
  // A fresh session with fresh counters: the counters live in the environment.
  void reset(SessionLimits limits) {
    auto fresh = std::make_unique<SessionEnv>();
    fresh->limits = limits;
    session = Session(handle, *fresh);
    env = std::move(fresh);  // the session that counted into the old one is gone
  }
  void attach(std::uint16_t receive_maximum = 100, ProtocolVersion version = ProtocolVersion::v5,
              TimePoint now = t0) {
    session.attach(sink, version, receive_maximum, now);
  }
  void deliver(std::string_view payload, QoS qos, TimePoint now = t0) {
    session.deliver(make_message("t", payload, qos), with_qos(qos), now);
  }
  // The packet id of the last PUBLISH the sink was given.
  std::uint16_t last_id() const { return sink.attempts.back().publish.packet_id; }

  SessionHandlePtr handle = std::make_shared<SessionHandle>("client", 0);
  std::unique_ptr<SessionEnv> env = std::make_unique<SessionEnv>();
  Session session{handle, *env};
  FakeSink sink;
};

// --- delivery while online -------------------------------------------------------------

TEST_F(SessionTest, Qos0IsSentAtOnceWithoutPacketId) {
  attach();
  session.deliver(make_message("a/b", "hello", QoS::at_most_once), with_qos(QoS::at_most_once), t0);
  ASSERT_EQ(sink.publishes().size(), 1u);
  const codec::Publish publish = sink.publishes()[0];
  EXPECT_EQ(publish.topic, "a/b");
  EXPECT_EQ(publish.payload, "hello");
  EXPECT_EQ(publish.qos, QoS::at_most_once);
  EXPECT_EQ(publish.packet_id, 0);
  EXPECT_FALSE(publish.dup);
  EXPECT_EQ(session.inflight_count(), 0u);
  EXPECT_EQ(session.queued_count(), 0u);
  EXPECT_EQ(session.stats().delivered, 1u);
}

TEST_F(SessionTest, Qos1And2GetDistinctNonZeroPacketIds) {
  attach();
  for (QoS qos : {QoS::at_least_once, QoS::exactly_once, QoS::at_least_once, QoS::exactly_once})
    deliver("m", qos);
  std::set<std::uint16_t> ids;
  for (const codec::Publish& publish : sink.publishes()) {
    EXPECT_NE(publish.packet_id, 0) << "[MQTT-2.2.1-3]";
    ids.insert(publish.packet_id);
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(session.inflight_count(), 4u);
}

TEST_F(SessionTest, SendsTheQosAndRetainFlagOfTheDeliveryOptions) {
  attach();
  // The router already lowered the QoS to the subscription's and decided the flag.
  session.deliver(make_message("t", "m", QoS::exactly_once, true),
                  DeliveryOptions{.qos = QoS::at_least_once, .retain = false}, t0);
  session.deliver(make_message("t", "n", QoS::exactly_once, false),
                  DeliveryOptions{.qos = QoS::at_most_once, .retain = true}, t0);
  ASSERT_EQ(sink.publishes().size(), 2u);
  EXPECT_EQ(sink.publishes()[0].qos, QoS::at_least_once);
  EXPECT_FALSE(sink.publishes()[0].retain);
  EXPECT_EQ(sink.publishes()[1].qos, QoS::at_most_once);
  EXPECT_TRUE(sink.publishes()[1].retain);
}

// --- Receive Maximum [MQTT-3.3.4-9] ----------------------------------------------------

TEST_F(SessionTest, ReceiveMaximumHoldsBackTheThirdMessageUntilAPuback) {
  attach(/*receive_maximum=*/2);
  deliver("m1", QoS::at_least_once);
  deliver("m2", QoS::at_least_once);
  deliver("m3", QoS::at_least_once);
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(session.inflight_count(), 2u);
  EXPECT_EQ(session.queued_count(), 1u);

  const std::uint16_t first = sink.publishes()[0].packet_id;
  ASSERT_TRUE(session.on_puback(first, t0));
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(session.inflight_count(), 2u);
  EXPECT_EQ(session.queued_count(), 0u);
}

TEST_F(SessionTest, ANewMessageDoesNotOvertakeOnesWaitingForTheWindow) {
  attach(/*receive_maximum=*/1);
  deliver("m1", QoS::at_least_once);
  deliver("m2", QoS::exactly_once);
  deliver("m3", QoS::at_least_once);
  ASSERT_TRUE(session.on_puback(last_id(), t0));
  deliver("m4", QoS::at_least_once);
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2"}));
  // A QoS 2 message holds its slot until PUBCOMP, not PUBREC.
  ASSERT_TRUE(session.on_pubrec(last_id(), false, t0));
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2"}));
  ASSERT_TRUE(session.on_pubcomp(sink.publishes()[1].packet_id, t0));
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2", "m3"}));
  ASSERT_TRUE(session.on_puback(last_id(), t0));
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2", "m3", "m4"}));
}

TEST_F(SessionTest, Qos0IsNotHeldBackByTheWindow) {
  attach(/*receive_maximum=*/1);
  deliver("m1", QoS::at_least_once);
  deliver("m2", QoS::at_least_once);
  deliver("q0", QoS::at_most_once);
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "q0"}));
}

TEST_F(SessionTest, ReceiveMaximumZeroIsTreatedAsOne) {
  attach(/*receive_maximum=*/0);
  deliver("m1", QoS::at_least_once);
  deliver("m2", QoS::at_least_once);
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1"}));
  EXPECT_EQ(session.queued_count(), 1u);
}

// --- acknowledgements ------------------------------------------------------------------

TEST_F(SessionTest, PubackEndsAQos1Exchange) {
  attach();
  deliver("m1", QoS::at_least_once);
  const std::uint16_t id = last_id();
  EXPECT_FALSE(session.on_pubrec(id, false, t0)) << "PUBREC for a QoS 1 message";
  EXPECT_FALSE(session.on_pubcomp(id, t0)) << "PUBCOMP for a QoS 1 message";
  EXPECT_TRUE(session.on_puback(id, t0));
  EXPECT_EQ(session.inflight_count(), 0u);
  EXPECT_FALSE(session.on_puback(id, t0)) << "a second PUBACK";
  EXPECT_FALSE(session.on_puback(static_cast<std::uint16_t>(id + 1), t0)) << "unknown id";
  EXPECT_TRUE(sink.pubrels().empty());
}

TEST_F(SessionTest, PubrecIsAnsweredWithPubrelAndPubcompEndsTheExchange) {
  attach();
  deliver("m1", QoS::exactly_once);
  const std::uint16_t id = last_id();
  EXPECT_FALSE(session.on_puback(id, t0)) << "PUBACK for a QoS 2 message";
  EXPECT_FALSE(session.on_pubcomp(id, t0)) << "PUBCOMP before PUBREC";

  ASSERT_TRUE(session.on_pubrec(id, false, t0));
  EXPECT_EQ(sink.pubrels(), std::vector<std::uint16_t>{id}) << "[MQTT-4.3.3-4]";
  EXPECT_EQ(session.inflight_count(), 1u) << "awaiting PUBCOMP";

  ASSERT_TRUE(session.on_pubcomp(id, t0));
  EXPECT_EQ(session.inflight_count(), 0u);
  EXPECT_FALSE(session.on_pubcomp(id, t0)) << "a second PUBCOMP";
  EXPECT_FALSE(session.on_pubrec(id, false, t0)) << "PUBREC after the exchange ended";
}

TEST_F(SessionTest, PubrecWithAnErrorReasonEndsTheExchange) {
  attach(/*receive_maximum=*/1);
  deliver("m1", QoS::exactly_once);
  deliver("m2", QoS::at_least_once);
  const std::uint16_t id = sink.publishes()[0].packet_id;
  ASSERT_TRUE(session.on_pubrec(id, /*failed=*/true, t0));
  EXPECT_TRUE(sink.pubrels().empty()) << "no PUBREL after a failed PUBREC";
  EXPECT_FALSE(session.on_pubcomp(id, t0));
  // The slot is free again [MQTT-3.3.4-9]: the queued message goes out.
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(session.inflight_count(), 1u);
}

TEST_F(SessionTest, AcknowledgementsOfUnknownIdsAreRefused) {
  attach();
  EXPECT_FALSE(session.on_puback(1, t0));
  EXPECT_FALSE(session.on_pubrec(1, false, t0));
  EXPECT_FALSE(session.on_pubrec(1, true, t0));
  EXPECT_FALSE(session.on_pubcomp(1, t0));
  EXPECT_TRUE(sink.log.empty());
}

// --- offline queueing ------------------------------------------------------------------

struct OfflineCase {
  QoS qos;
  bool store_qos0;
  bool queued;
};

void PrintTo(const OfflineCase& c, std::ostream* os) {
  *os << "QoS " << static_cast<int>(c.qos) << (c.store_qos0 ? " store_qos0" : " no store_qos0")
      << (c.queued ? " -> queued" : " -> dropped");
}

class OfflineQueueing : public SessionTest, public ::testing::WithParamInterface<OfflineCase> {};

TEST_P(OfflineQueueing, QueuesWhatTheLimitsAllow) {
  const OfflineCase& c = GetParam();
  reset(SessionLimits{.mqueue_store_qos0 = c.store_qos0});
  EXPECT_FALSE(session.online());
  deliver("m", c.qos);
  EXPECT_EQ(session.queued_count(), c.queued ? 1u : 0u);
  EXPECT_EQ(session.stats().dropped_qos0_offline, c.queued ? 0u : 1u);
  EXPECT_TRUE(sink.attempts.empty());

  attach();
  ASSERT_EQ(sink.publishes().size(), c.queued ? 1u : 0u);
  if (c.queued) {
    EXPECT_EQ(sink.publishes()[0].qos, c.qos);
    EXPECT_EQ(sink.publishes()[0].packet_id != 0, c.qos != QoS::at_most_once);
    EXPECT_FALSE(sink.publishes()[0].dup);
  }
  EXPECT_EQ(session.queued_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Session, OfflineQueueing,
                         ::testing::Values(OfflineCase{QoS::at_most_once, true, true},
                                           OfflineCase{QoS::at_most_once, false, false},
                                           OfflineCase{QoS::at_least_once, true, true},
                                           OfflineCase{QoS::at_least_once, false, true},
                                           OfflineCase{QoS::exactly_once, true, true},
                                           OfflineCase{QoS::exactly_once, false, true}));

TEST_F(SessionTest, DetachStopsSending) {
  attach();
  session.detach(t0);
  EXPECT_FALSE(session.online());
  EXPECT_EQ(session.sink(), nullptr);
  deliver("m", QoS::at_least_once);
  deliver("q", QoS::at_most_once);
  EXPECT_TRUE(sink.attempts.empty());
  EXPECT_EQ(session.queued_count(), 2u);
}

TEST_F(SessionTest, FullQueueDropsTheOldestQos0FirstThenTheOldest) {
  reset(SessionLimits{.max_mqueue_len = 3});
  deliver("a1", QoS::at_least_once);
  deliver("b0", QoS::at_most_once);
  deliver("c2", QoS::exactly_once);
  deliver("d1", QoS::at_least_once);  // full: b0, the only QoS 0, goes
  EXPECT_EQ(session.queued_count(), 3u);
  EXPECT_EQ(session.stats().dropped_queue_full, 1u);
  deliver("e1", QoS::at_least_once);  // full, no QoS 0: a1, the oldest, goes
  EXPECT_EQ(session.stats().dropped_queue_full, 2u);
  deliver("f0", QoS::at_most_once);  // full of QoS 1/2: the new QoS 0 is the one to go
  EXPECT_EQ(session.stats().dropped_queue_full, 3u);
  EXPECT_EQ(session.queued_count(), 3u);

  attach();
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"c2", "d1", "e1"}));
}

// docs/config.md (mqtt.max_mqueue_len): "When full, the oldest QoS 0 message is dropped
// first, then the oldest": an older queued QoS 0 message goes before an arriving one.
TEST_F(SessionTest, FullQueueDropsAnOlderQueuedQos0BeforeTheArrivingOne) {
  reset(SessionLimits{.max_mqueue_len = 3});
  deliver("a1", QoS::at_least_once);
  deliver("b0", QoS::at_most_once);
  deliver("c1", QoS::at_least_once);
  deliver("f0", QoS::at_most_once);
  EXPECT_EQ(session.stats().dropped_queue_full, 1u);
  attach();
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"a1", "c1", "f0"}));
}

TEST_F(SessionTest, ZeroLengthQueueQueuesNothing) {
  reset(SessionLimits{.max_mqueue_len = 0});
  deliver("m1", QoS::at_least_once);
  deliver("m0", QoS::at_most_once);
  EXPECT_EQ(session.queued_count(), 0u);
  EXPECT_EQ(session.stats().dropped_queue_full, 2u);
}

TEST_F(SessionTest, WindowQueueIsBoundedToo) {
  reset(SessionLimits{.max_mqueue_len = 1});
  attach(/*receive_maximum=*/1);
  deliver("m1", QoS::at_least_once);
  deliver("m2", QoS::at_least_once);
  deliver("m3", QoS::at_least_once);  // the queue holds m2: m2, the oldest, goes
  EXPECT_EQ(session.queued_count(), 1u);
  EXPECT_EQ(session.stats().dropped_queue_full, 1u);
  ASSERT_TRUE(session.on_puback(last_id(), t0));
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m3"}));
}

// --- resumption [MQTT-4.4.0-1] ---------------------------------------------------------

TEST_F(SessionTest, AttachResendsInflightWithDupInOrderThenQueued) {
  attach();
  deliver("m1", QoS::at_least_once);
  deliver("m2", QoS::exactly_once);
  deliver("m3", QoS::exactly_once);
  deliver("m4", QoS::at_least_once);
  const std::vector<codec::Publish> first = sink.publishes();
  ASSERT_EQ(first.size(), 4u);
  ASSERT_TRUE(session.on_pubrec(first[2].packet_id, false, t0));  // m3: PUBREL owed
  session.detach(t0 + 1s);
  deliver("m5", QoS::at_least_once, t0 + 2s);
  deliver("m6", QoS::at_most_once, t0 + 2s);
  sink.clear();

  attach(100, ProtocolVersion::v5, t0 + 3s);
  const auto id = [&](std::size_t i) { return std::to_string(first[i].packet_id); };
  const std::vector<std::string> expected = {
      "PUBLISH m1 qos=1 id=" + id(0) + " dup=1",  // [MQTT-3.3.1-1]
      "PUBLISH m2 qos=2 id=" + id(1) + " dup=1",
      "PUBREL " + id(2),  // [MQTT-4.3.3-4] only the PUBREL after PUBREC
      "PUBLISH m4 qos=1 id=" + id(3) + " dup=1",
  };
  std::vector<std::string> got = describe(sink.log);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + 4), expected) << "[MQTT-4.6.0-1]";
  // Then the queued messages, as new ones.
  const std::vector<codec::Publish> after = sink.publishes();
  EXPECT_EQ(after[3].payload, "m5");
  EXPECT_FALSE(after[3].dup);
  EXPECT_NE(after[3].packet_id, 0);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_NE(after[3].packet_id, first[i].packet_id);
  EXPECT_EQ(got[5], "PUBLISH m6 qos=0 id=0 dup=0");
  EXPECT_EQ(session.inflight_count(), 5u);
}

TEST_F(SessionTest, ResentMessagesCompleteWithTheirOriginalIds) {
  attach();
  deliver("m1", QoS::exactly_once);
  const std::uint16_t id = last_id();
  session.detach(t0);
  attach();
  ASSERT_TRUE(session.on_pubrec(id, false, t0));
  session.detach(t0);
  sink.clear();
  attach();
  EXPECT_EQ(describe(sink.log), std::vector<std::string>{"PUBREL " + std::to_string(id)});
  ASSERT_TRUE(session.on_pubcomp(id, t0));
  EXPECT_EQ(session.inflight_count(), 0u);
}

// [MQTT-3.3.4-9]: the Server MUST NOT send more than Receive Maximum QoS 1/2 PUBLISH
// packets not yet acknowledged, and the quota is re-initialised per connection (section
// 4.9): a client that reconnects with a smaller Receive Maximum gets the resends one
// window at a time.
TEST_F(SessionTest, ResendOnAttachRespectsTheNewReceiveMaximum) {
  attach(/*receive_maximum=*/10);
  deliver("m1", QoS::at_least_once);
  deliver("m2", QoS::at_least_once);
  deliver("m3", QoS::at_least_once);
  session.detach(t0);
  sink.clear();
  attach(/*receive_maximum=*/1);
  ASSERT_EQ(sink.payloads(), std::vector<std::string>{"m1"});
  ASSERT_TRUE(session.on_puback(last_id(), t0));
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(sink.publishes()[1].dup);
}

// --- message expiry --------------------------------------------------------------------

struct ExpiryCase {
  std::chrono::milliseconds waited;
  std::optional<std::uint32_t> forwarded;  // nullopt: dropped as expired
};

void PrintTo(const ExpiryCase& c, std::ostream* os) {
  *os << "waited " << c.waited.count() << " ms -> ";
  if (c.forwarded) {
    *os << "interval " << *c.forwarded;
  } else {
    *os << "dropped";
  }
}

class QueuedMessageExpiry : public SessionTest, public ::testing::WithParamInterface<ExpiryCase> {};

TEST_P(QueuedMessageExpiry, ForwardsWhatRemainsOrDrops) {
  const ExpiryCase& c = GetParam();
  auto message = make_message("t", "m", QoS::at_least_once);
  message->properties.message_expiry_interval = 10;
  message->expires_at = t0 + 10s;
  session.deliver(message, with_qos(QoS::at_least_once), t0);
  ASSERT_EQ(session.queued_count(), 1u);

  attach(100, ProtocolVersion::v5, t0 + c.waited);
  EXPECT_EQ(session.queued_count(), 0u);
  if (!c.forwarded) {
    // [MQTT-3.3.2-5] not delivered once expired.
    EXPECT_TRUE(sink.publishes().empty());
    EXPECT_EQ(session.inflight_count(), 0u);
    EXPECT_EQ(session.stats().dropped_expired, 1u);
    return;
  }
  ASSERT_EQ(sink.publishes().size(), 1u);
  // [MQTT-3.3.2-6] the interval sent is the received one minus the time it waited.
  EXPECT_EQ(sink.publishes()[0].properties.message_expiry_interval, c.forwarded);
  EXPECT_EQ(session.stats().dropped_expired, 0u);
}

INSTANTIATE_TEST_SUITE_P(Session, QueuedMessageExpiry,
                         ::testing::Values(ExpiryCase{0ms, 10}, ExpiryCase{4000ms, 6},
                                           ExpiryCase{3500ms, 7},  // rounded up
                                           ExpiryCase{9999ms, 1}, ExpiryCase{10000ms, {}},
                                           ExpiryCase{60000ms, {}}));

TEST_F(SessionTest, MessageThatExpiredWhileWaitingForTheWindowIsNotSent) {
  attach(/*receive_maximum=*/1);
  deliver("m1", QoS::at_least_once);
  auto message = make_message("t", "m2", QoS::at_least_once);
  message->properties.message_expiry_interval = 5;
  message->expires_at = t0 + 5s;
  session.deliver(message, with_qos(QoS::at_least_once), t0);
  deliver("m3", QoS::at_least_once);
  ASSERT_TRUE(session.on_puback(last_id(), t0 + 6s));
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m3"}));
  EXPECT_EQ(session.stats().dropped_expired, 1u);
}

TEST_F(SessionTest, Qos0ThatExpiredOfflineIsNotSent) {
  auto message = make_message("t", "m", QoS::at_most_once);
  message->expires_at = t0 + 1s;
  session.deliver(message, with_qos(QoS::at_most_once), t0);
  attach(100, ProtocolVersion::v5, t0 + 2s);
  EXPECT_TRUE(sink.attempts.empty());
  EXPECT_EQ(session.queued_count(), 0u);
  EXPECT_EQ(session.stats().dropped_expired, 1u);
}

// [MQTT-3.3.2-5] allows deleting only a copy whose onward delivery has not started; an
// in-flight message that expired while the client was away is still resent with DUP
// [MQTT-4.4.0-1] (for QoS 2 the client may hold its packet id awaiting PUBREL).
TEST_F(SessionTest, InflightMessageThatExpiredWhileOfflineIsStillResent) {
  attach();
  auto message = make_message("t", "m1", QoS::exactly_once);
  message->properties.message_expiry_interval = 5;
  message->expires_at = t0 + 5s;
  session.deliver(message, with_qos(QoS::exactly_once), t0);
  const std::uint16_t id = last_id();
  session.detach(t0 + 1s);
  sink.clear();

  attach(100, ProtocolVersion::v5, t0 + 10s);
  ASSERT_EQ(sink.publishes().size(), 1u);
  EXPECT_EQ(sink.publishes()[0].packet_id, id);
  EXPECT_TRUE(sink.publishes()[0].dup);
  EXPECT_EQ(session.inflight_count(), 1u);
}

// --- properties by protocol version ----------------------------------------------------

std::shared_ptr<Message> message_with_properties() {
  auto message = make_message("t", "m", QoS::at_least_once);
  message->properties.content_type = "text/plain";
  message->properties.user_properties = {{"k1", "v1"}, {"k2", "v2"}};
  message->properties.message_expiry_interval = 30;
  message->expires_at = t0 + 30s;
  return message;
}

TEST_F(SessionTest, V5GetsPropertiesRemainingExpiryAndSubscriptionIds) {
  attach();
  session.deliver(message_with_properties(),
                  DeliveryOptions{.qos = QoS::at_least_once, .subscription_ids = {5, 9}}, t0 + 10s);
  ASSERT_EQ(sink.publishes().size(), 1u);
  const codec::Properties p = sink.publishes()[0].properties;
  EXPECT_EQ(p.content_type, "text/plain");
  EXPECT_EQ(p.user_properties,
            (std::vector<codec::UserProperty>{{"k1", "v1"}, {"k2", "v2"}}));  // [MQTT-3.3.2-18]
  EXPECT_EQ(p.message_expiry_interval, 20u);                                  // [MQTT-3.3.2-6]
  EXPECT_EQ(p.subscription_identifiers, (std::vector<std::uint32_t>{5, 9}));  // [MQTT-3.3.4-3]
}

TEST_F(SessionTest, V5MessageWithoutExpiryHasNoExpiryProperty) {
  attach();
  session.deliver(make_message("t", "m", QoS::at_least_once), with_qos(QoS::at_least_once), t0);
  ASSERT_EQ(sink.publishes().size(), 1u);
  EXPECT_FALSE(sink.publishes()[0].properties.message_expiry_interval.has_value());
  EXPECT_TRUE(sink.publishes()[0].properties.subscription_identifiers.empty());
}

class OldProtocol : public SessionTest, public ::testing::WithParamInterface<ProtocolVersion> {};

TEST_P(OldProtocol, GetsNoProperties) {
  attach(100, GetParam());
  session.deliver(message_with_properties(),
                  DeliveryOptions{.qos = QoS::at_least_once, .subscription_ids = {5}}, t0 + 1s);
  ASSERT_EQ(sink.publishes().size(), 1u);
  EXPECT_TRUE(sink.publishes()[0].properties == codec::Properties{});
}

INSTANTIATE_TEST_SUITE_P(Session, OldProtocol,
                         ::testing::Values(ProtocolVersion::v3_1, ProtocolVersion::v3_1_1));

// --- session expiry [MQTT-3.1.2-23] ----------------------------------------------------

struct SessionExpiryCase {
  std::uint32_t interval;
  std::optional<std::chrono::seconds> expires_after_detach;  // nullopt: never
};

void PrintTo(const SessionExpiryCase& c, std::ostream* os) {
  *os << "interval " << c.interval;
}

class SessionExpiry : public SessionTest,
                      public ::testing::WithParamInterface<SessionExpiryCase> {};

TEST_P(SessionExpiry, DetachSetsWhenTheSessionEnds) {
  const SessionExpiryCase& c = GetParam();
  session.expiry_interval = c.interval;
  attach();
  EXPECT_FALSE(session.expires_at().has_value()) << "online sessions do not expire";
  const TimePoint detached = t0 + 5s;
  session.detach(detached);
  if (c.expires_after_detach) {
    EXPECT_EQ(session.expires_at(), detached + *c.expires_after_detach);
  } else {
    EXPECT_FALSE(session.expires_at().has_value());
  }
  attach(100, ProtocolVersion::v5, detached + 1s);
  EXPECT_FALSE(session.expires_at().has_value()) << "resumed";
}

INSTANTIATE_TEST_SUITE_P(Session, SessionExpiry,
                         ::testing::Values(SessionExpiryCase{0, 0s}, SessionExpiryCase{60, 60s},
                                           SessionExpiryCase{7200, 7200s},
                                           SessionExpiryCase{0xFFFFFFFE, 0xFFFFFFFEs},
                                           SessionExpiryCase{0xFFFFFFFF, std::nullopt}));

TEST_F(SessionTest, NewSessionHasNoExpiryUntilDetached) {
  session.expiry_interval = 10;
  EXPECT_FALSE(session.expires_at().has_value());
}

// --- inbound QoS 2 [MQTT-4.3.3] --------------------------------------------------------

TEST_F(SessionTest, InboundQos2IdIsRememberedUntilReleased) {
  using Arrival = Session::Qos2Arrival;
  EXPECT_EQ(session.receive_qos2(7), Arrival::first);
  EXPECT_EQ(session.receive_qos2(7), Arrival::duplicate) << "[MQTT-4.3.3-10]";
  EXPECT_EQ(session.receive_qos2(8), Arrival::first);
  EXPECT_TRUE(session.release_qos2(7));
  EXPECT_FALSE(session.release_qos2(7)) << "released twice";
  EXPECT_FALSE(session.release_qos2(9)) << "never received";
  EXPECT_EQ(session.receive_qos2(7), Arrival::first) << "the id may be reused after PUBREL";
}

TEST_F(SessionTest, InboundQos2IsBoundedByMaxAwaitingRel) {
  using Arrival = Session::Qos2Arrival;
  reset(SessionLimits{.max_awaiting_rel = 2});
  EXPECT_EQ(session.receive_qos2(1), Arrival::first);
  EXPECT_EQ(session.receive_qos2(2), Arrival::first);
  EXPECT_EQ(session.receive_qos2(3), Arrival::too_many);
  EXPECT_EQ(session.receive_qos2(1), Arrival::duplicate) << "a resend is not one more";
  EXPECT_TRUE(session.release_qos2(1));
  EXPECT_EQ(session.receive_qos2(3), Arrival::first);
  EXPECT_FALSE(session.release_qos2(4)) << "refused ids are not remembered";
}

TEST_F(SessionTest, MaxAwaitingRelZeroIsUnlimited) {
  reset(SessionLimits{.max_awaiting_rel = 0});
  for (std::uint16_t id = 1; id <= 1000; ++id)
    ASSERT_EQ(session.receive_qos2(id), Session::Qos2Arrival::first) << id;
}

// --- take_undelivered ------------------------------------------------------------------

TEST_F(SessionTest, TakeUndeliveredReturnsInflightThenQueuedInOrder) {
  attach(/*receive_maximum=*/3);
  deliver("a", QoS::at_least_once);
  deliver("b", QoS::exactly_once);
  deliver("c", QoS::exactly_once);
  deliver("d", QoS::at_least_once);
  deliver("e", QoS::exactly_once);
  // b was received by the client (PUBREC): only its PUBREL is owed, not the message.
  ASSERT_TRUE(session.on_pubrec(sink.publishes()[1].packet_id, false, t0));

  const auto undelivered = session.take_undelivered();
  std::vector<std::string> payloads;
  std::vector<QoS> qos;
  for (const auto& [message, options] : undelivered) {
    payloads.emplace_back(message->payload);
    qos.push_back(options.qos);
  }
  EXPECT_EQ(payloads, (std::vector<std::string>{"a", "c", "d", "e"}));
  EXPECT_EQ(qos, (std::vector<QoS>{QoS::at_least_once, QoS::exactly_once, QoS::at_least_once,
                                   QoS::exactly_once}));
  EXPECT_EQ(session.inflight_count(), 0u);
  EXPECT_EQ(session.queued_count(), 0u);
}

TEST_F(SessionTest, TakeUndeliveredKeepsTheDeliveryOptions) {
  // The worker re-dispatches a shared member's messages by the subscription they came by.
  const auto shared = std::make_shared<const std::string>("$share/g/t");
  session.deliver(make_message("t", "m", QoS::exactly_once),
                  DeliveryOptions{.qos = QoS::at_least_once,
                                  .retain = true,
                                  .subscription_ids = {4},
                                  .shared_subscription = shared},
                  t0);
  const auto undelivered = session.take_undelivered();
  ASSERT_EQ(undelivered.size(), 1u);
  EXPECT_EQ(undelivered[0].second.qos, QoS::at_least_once);
  EXPECT_TRUE(undelivered[0].second.retain);
  EXPECT_EQ(undelivered[0].second.subscription_ids, std::vector<std::uint32_t>{4});
  EXPECT_EQ(undelivered[0].second.shared_subscription, shared);
}

// --- packet ids ------------------------------------------------------------------------

TEST_F(SessionTest, PacketIdWrapsTo1AndSkipsIdsInUse) {
  attach(/*receive_maximum=*/65535);
  const MessagePtr message = make_message("t", "m", QoS::at_least_once);
  session.deliver(message, with_qos(QoS::at_least_once), t0);
  ASSERT_EQ(last_id(), 1);  // kept in flight throughout
  for (std::uint32_t expected = 2; expected <= 65535; ++expected) {
    session.deliver(message, with_qos(QoS::at_least_once), t0);
    ASSERT_EQ(last_id(), expected);
    ASSERT_TRUE(session.on_puback(last_id(), t0));
    sink.clear();
  }
  // 65535 wraps to 1 (never 0 [MQTT-2.2.1-3]), which is still in use, so 2.
  session.deliver(message, with_qos(QoS::at_least_once), t0);
  EXPECT_EQ(last_id(), 2);
  session.deliver(message, with_qos(QoS::at_least_once), t0);
  EXPECT_EQ(last_id(), 3);
  EXPECT_EQ(session.inflight_count(), 3u);
}

// --- what the connection refuses -------------------------------------------------------

TEST_F(SessionTest, DiscardedSendIsNotKeptInFlight) {
  attach();
  sink.result = SendResult::discarded;  // e.g. above the client's Maximum Packet Size
  deliver("big1", QoS::at_least_once);
  deliver("big2", QoS::exactly_once);
  deliver("big0", QoS::at_most_once);
  EXPECT_EQ(sink.attempts.size(), 3u);
  EXPECT_EQ(session.inflight_count(), 0u);
  EXPECT_EQ(session.queued_count(), 0u);
  EXPECT_EQ(session.stats().dropped_by_connection, 3u);
  EXPECT_EQ(session.stats().delivered, 0u);

  sink.result = SendResult::sent;
  session.detach(t0);
  sink.clear();
  attach();
  EXPECT_TRUE(sink.attempts.empty()) << "nothing to resend";
}

TEST_F(SessionTest, DiscardedQueuedMessageIsDroppedAndTheNextOneSent) {
  deliver("big", QoS::at_least_once);
  deliver("ok", QoS::at_least_once);
  sink.script = {SendResult::discarded};
  attach();
  EXPECT_EQ(sink.payloads(), std::vector<std::string>{"ok"});
  EXPECT_EQ(session.inflight_count(), 1u);
  EXPECT_EQ(session.queued_count(), 0u);
  EXPECT_EQ(session.stats().dropped_by_connection, 1u);
}

TEST_F(SessionTest, OverloadedSendKeepsTheMessageForLater) {
  attach();
  sink.result = SendResult::overloaded;
  deliver("m1", QoS::at_least_once);
  EXPECT_EQ(session.inflight_count(), 1u) << "resent on the next connection";
  session.detach(t0);
  deliver("m2", QoS::at_least_once);

  // The next connection is overloaded from the start: the queue stays as it is.
  FakeSink busy;
  busy.result = SendResult::overloaded;
  session.attach(busy, ProtocolVersion::v5, 100, t0);
  EXPECT_EQ(busy.attempts.size(), 1u) << "stops at the first refusal";
  EXPECT_EQ(session.inflight_count(), 1u);
  EXPECT_EQ(session.queued_count(), 1u);
  session.detach(t0);

  sink.result = SendResult::sent;
  sink.clear();
  attach();
  ASSERT_EQ(sink.publishes().size(), 2u);
  EXPECT_EQ(sink.payloads(), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(sink.publishes()[0].dup);
  EXPECT_FALSE(sink.publishes()[1].dup);
}

// mqtt.await_rel_timeout: QoS 2 ids a client never releases are forgotten, so they
// cannot fill the session's bound for ever.
TEST(SessionAwaitRel, UnreleasedQos2IdsAreDroppedAfterTheTimeout) {
  SessionEnv env{.limits = {.max_awaiting_rel = 2}};
  Session session(std::make_shared<SessionHandle>("c", 0), env);
  EXPECT_EQ(session.receive_qos2(1, t0), Session::Qos2Arrival::first);
  EXPECT_EQ(session.receive_qos2(2, t0 + std::chrono::seconds(10)), Session::Qos2Arrival::first);
  EXPECT_EQ(session.receive_qos2(3, t0 + std::chrono::seconds(10)), Session::Qos2Arrival::too_many);
  EXPECT_EQ(session.drop_unreleased_before(t0 + std::chrono::seconds(5)), 1u);
  EXPECT_EQ(session.stats().dropped_unreleased_qos2, 1u);
  EXPECT_FALSE(session.awaiting_release(1));
  EXPECT_TRUE(session.awaiting_release(2));
  EXPECT_EQ(session.receive_qos2(3, t0 + std::chrono::seconds(11)), Session::Qos2Arrival::first);
}

// --- memory of idle sessions (docs/performance.md) -----------------------------------

TEST_F(SessionTest, AnIdleSessionHoldsNoExchangeStateUntilAQos1OrQueuedMessage) {
  EXPECT_FALSE(session.holds_exchange_state());
  attach();
  deliver("q0", QoS::at_most_once);
  EXPECT_FALSE(session.holds_exchange_state()) << "QoS 0 online goes straight out";
  EXPECT_EQ(session.awaiting_release(), 0u);
  EXPECT_FALSE(session.on_puback(1, t0));
  EXPECT_EQ(session.drop_unreleased_before(t0 + 1h), 0u);
  EXPECT_FALSE(session.holds_exchange_state()) << "queries and unknown acks create nothing";
  deliver("q1", QoS::at_least_once);
  EXPECT_TRUE(session.holds_exchange_state());
}

TEST_F(SessionTest, ExchangeStateIsReleasedOnlyOnceEveryExchangeIsDone) {
  attach();
  deliver("a", QoS::at_least_once);
  const std::uint16_t first = last_id();
  session.release_idle_state();
  EXPECT_TRUE(session.holds_exchange_state()) << "a message is in flight";
  ASSERT_TRUE(session.on_puback(first, t0));
  ASSERT_EQ(session.receive_qos2(9), Session::Qos2Arrival::first);
  session.release_idle_state();
  EXPECT_TRUE(session.holds_exchange_state()) << "an inbound QoS 2 id awaits PUBREL";
  ASSERT_TRUE(session.release_qos2(9));
  session.release_idle_state();
  EXPECT_FALSE(session.holds_exchange_state());
  // Afterwards the session goes on as before: ids continue, PUBREL dedup is fresh.
  deliver("b", QoS::at_least_once);
  EXPECT_NE(last_id(), first) << "packet ids go on across a release";
  EXPECT_EQ(session.inflight_count(), 1u);
  EXPECT_EQ(session.receive_qos2(9), Session::Qos2Arrival::first);
}

TEST_F(SessionTest, QueuedMessagesKeepTheirStateWhileOffline) {
  deliver("offline", QoS::at_least_once);
  session.release_idle_state();
  ASSERT_EQ(session.queued_count(), 1u);
  attach();
  ASSERT_EQ(describe(sink.log), std::vector<std::string>{"PUBLISH offline qos=1 id=1 dup=0"});
}

TEST_F(SessionTest, SubscriptionsAreKeptOnlyWhileThereAreAny) {
  EXPECT_TRUE(session.subscriptions().empty());
  session.set_subscription("a/+", {.identifier = 3});
  session.set_subscription("a/+", {.identifier = 4});
  session.set_subscription("b", {});
  ASSERT_EQ(session.subscriptions().size(), 2u);
  EXPECT_EQ(session.subscriptions().at("a/+").identifier, 4u) << "replaced [MQTT-3.8.4-3]";
  session.erase_subscription("a/+");
  session.erase_subscription("nothing");
  ASSERT_EQ(session.subscriptions().size(), 1u);
  session.erase_subscription("b");
  EXPECT_TRUE(session.subscriptions().empty());
}

}  // namespace
}  // namespace cicada::broker
