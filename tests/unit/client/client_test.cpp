// The client against a scripted broker: each test plays the broker's side packet by
// packet, so ordering guarantees are checked exactly, with no sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <cicada/client/client.hpp>

#include "fake_broker.hpp"

namespace cicada::client {
namespace {

using namespace std::chrono_literals;
using testing::FakeBroker;
using testing::FakeConnection;

constexpr auto wait_limit = 10s;

ClientOptions options_for(const FakeBroker& broker) {
  ClientOptions options;
  options.servers = {broker.uri()};
  options.client_id = "unit";
  options.keep_alive = 0s;
  options.backoff = {50ms, 200ms, 100ms, 2.0};
  return options;
}

// Accepts a connection, checks it opens with CONNECT, answers CONNACK.
FakeConnection handshake(FakeBroker& broker, codec::Connack connack = {},
                         codec::Connect* seen = nullptr) {
  auto conn = broker.accept();
  auto connect = conn.read_as<codec::Connect>();
  EXPECT_TRUE(connect.has_value());
  if (connect && seen) {
    *seen = *connect;
    seen->client_id = {};  // views die with the buffer; tests copy what they need
  }
  conn.write(connack);
  return conn;
}

template <class T>
T get(std::future<T>& future) {
  EXPECT_EQ(future.wait_for(wait_limit), std::future_status::ready);
  return future.get();
}

TEST(Client, ConnectSendsOptionsAndStartCompletes) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.keep_alive = 30s;
  options.username = "user";
  options.password = "secret";
  options.session_expiry_interval = 300;
  options.will = WillOptions{.topic = "will/t", .payload = "gone", .qos = QoS::at_least_once};
  Client client(options);
  auto started = client.start();
  auto conn = broker.accept();
  auto connect = conn.read_as<codec::Connect>();
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->version, ProtocolVersion::v5);
  EXPECT_EQ(connect->client_id, "unit");
  EXPECT_EQ(connect->keep_alive, 30);
  EXPECT_EQ(connect->username, std::optional<std::string_view>("user"));
  EXPECT_EQ(connect->password, std::optional<std::string_view>("secret"));
  EXPECT_EQ(connect->properties.session_expiry_interval, 300u);
  ASSERT_TRUE(connect->will);
  EXPECT_EQ(connect->will->topic, "will/t");
  EXPECT_EQ(connect->will->payload, "gone");
  codec::Connack connack;
  connack.properties.assigned_client_identifier = "assigned";
  conn.write(connack);
  auto result = get(started);
  EXPECT_FALSE(result.error) << result.error.describe();
  EXPECT_EQ(result.connack.assigned_client_id, "assigned");
  EXPECT_TRUE(client.connected());
  client.disconnect().wait_for(wait_limit);
  auto disconnect = conn.read_as<codec::Disconnect>();
  EXPECT_TRUE(disconnect);
}

TEST(Client, RefusedConnackIsAnErrorWithReasonString) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.retry_initial_connect = false;
  Client client(options);
  auto started = client.start();
  auto conn = broker.accept();
  ASSERT_TRUE(conn.read_as<codec::Connect>());
  codec::Connack connack{.reason_code = ReasonCode::not_authorized};
  connack.properties.reason_string = "go away";
  conn.write(connack);
  auto result = get(started);
  EXPECT_EQ(result.error.kind, ErrorKind::connect_failed);
  EXPECT_EQ(result.error.reason, ReasonCode::not_authorized);
  EXPECT_NE(result.error.describe().find("go away"), std::string::npos);
}

TEST(Client, UnreachableServerFailsWhenNotRetrying) {
  std::string uri;
  {
    FakeBroker closed;  // a port nobody listens on any more
    uri = closed.uri();
  }
  ClientOptions options;
  options.servers = {uri};
  options.retry_initial_connect = false;
  Client client(options);
  auto started = client.start();
  auto result = get(started);
  EXPECT_EQ(result.error.kind, ErrorKind::connect_failed);
}

TEST(Client, Qos1RejectionCarriesReasonString) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto done = client.publish({.topic = "t", .payload = "p", .qos = QoS::at_least_once});
  auto publish = conn.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  EXPECT_EQ(publish->topic, "t");
  EXPECT_EQ(publish->payload, "p");
  EXPECT_FALSE(publish->dup);
  codec::Puback ack{.packet_id = publish->packet_id, .reason_code = ReasonCode::not_authorized};
  ack.properties.reason_string = "acl says no";
  conn.write(ack);
  auto result = get(done);
  EXPECT_EQ(result.error.kind, ErrorKind::rejected);
  EXPECT_EQ(result.reason, ReasonCode::not_authorized);
  EXPECT_NE(result.error.describe().find("acl says no"), std::string::npos);
}

TEST(Client, Qos0WhileDisconnectedFails) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto done = client.publish({.topic = "t", .payload = "p"});
  EXPECT_EQ(get(done).error.kind, ErrorKind::not_connected);
}

TEST(Client, Qos2OutboundFullExchange) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto done = client.publish({.topic = "t", .payload = "p", .qos = QoS::exactly_once});
  auto publish = conn.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  conn.write(codec::Pubrec{.packet_id = publish->packet_id});
  auto pubrel = conn.read_as<codec::Pubrel>();
  ASSERT_TRUE(pubrel);
  EXPECT_EQ(pubrel->packet_id, publish->packet_id);
  conn.write(codec::Pubcomp{.packet_id = publish->packet_id});
  auto result = get(done);
  EXPECT_FALSE(result.error) << result.error.describe();
}

TEST(Client, ReceiveMaximumLimitsInflight) {
  FakeBroker broker;
  Client client(options_for(broker));
  // Queued before the connection exists; both are released together after CONNACK.
  auto first = client.publish({.topic = "t", .payload = "1", .qos = QoS::at_least_once});
  auto second = client.publish({.topic = "t", .payload = "2", .qos = QoS::at_least_once});
  auto started = client.start();
  codec::Connack connack;
  connack.properties.receive_maximum = 1;
  auto conn = handshake(broker, connack);
  auto p1 = conn.read_as<codec::Publish>();
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->payload, "1");
  // Ask for a PUBACK: if the client ignored Receive Maximum, PUBLISH "2" would already
  // be on the wire ahead of it.
  conn.write(
      codec::Publish{.qos = QoS::at_least_once, .topic = "in", .packet_id = 9, .payload = "x"});
  auto ack = conn.read_as<codec::Puback>();
  ASSERT_TRUE(ack) << "the client sent a second PUBLISH beyond Receive Maximum 1";
  EXPECT_EQ(ack->packet_id, 9);
  conn.write(codec::Puback{.packet_id = p1->packet_id});
  auto p2 = conn.read_as<codec::Publish>();
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->payload, "2");
  conn.write(codec::Puback{.packet_id = p2->packet_id});
  EXPECT_FALSE(get(first).error);
  EXPECT_FALSE(get(second).error);
}

TEST(Client, InboundQos2DeliveredExactlyOnce) {
  FakeBroker broker;
  Client client(options_for(broker));
  std::mutex mutex;
  std::vector<std::string> payloads;
  std::promise<void> two;
  client.on_message([&](const ReceivedMessage& m) {
    std::lock_guard lock(mutex);
    payloads.emplace_back(m.payload);
    if (payloads.size() == 2) two.set_value();
  });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  const codec::Publish first{
      .qos = QoS::exactly_once, .topic = "q2", .packet_id = 7, .payload = "a"};
  conn.write(first);
  ASSERT_TRUE(conn.read_as<codec::Pubrec>());
  auto again = first;
  again.dup = true;
  again.payload = "a-dup";
  conn.write(again);  // re-sent before PUBREL: must not be delivered again
  ASSERT_TRUE(conn.read_as<codec::Pubrec>());
  conn.write(codec::Pubrel{.packet_id = 7});
  auto comp = conn.read_as<codec::Pubcomp>();
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->reason_code, ReasonCode::success);
  conn.write(
      codec::Publish{.qos = QoS::exactly_once, .topic = "q2", .packet_id = 7, .payload = "b"});
  ASSERT_TRUE(conn.read_as<codec::Pubrec>());
  ASSERT_EQ(two.get_future().wait_for(wait_limit), std::future_status::ready);
  std::lock_guard lock(mutex);
  EXPECT_EQ(payloads, (std::vector<std::string>{"a", "b"}));
}

TEST(Client, ResumedSessionResendsInflightWithDup) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.clean_start = false;
  Client client(options);
  std::atomic<int> downs{0};
  std::atomic<int> reconnects{0};
  client.on_connection_down([&](const Error&) { ++downs; });
  client.on_reconnecting([&](std::uint32_t, const std::string&) { ++reconnects; });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto done = client.publish({.topic = "t", .payload = "keep", .qos = QoS::at_least_once});
  auto publish = conn.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  EXPECT_FALSE(publish->dup);
  const auto id = publish->packet_id;
  conn.close();  // lost before PUBACK

  auto conn2 = handshake(broker, codec::Connack{.session_present = true});
  auto resent = conn2.read_as<codec::Publish>();
  ASSERT_TRUE(resent);
  EXPECT_TRUE(resent->dup);  // [MQTT-4.4.0-1]
  EXPECT_EQ(resent->packet_id, id);
  EXPECT_EQ(resent->payload, "keep");
  conn2.write(codec::Puback{.packet_id = id});
  EXPECT_FALSE(get(done).error);
  EXPECT_EQ(downs.load(), 1);
  EXPECT_GE(reconnects.load(), 1);
}

// Message Expiry in the offline queue: the time a message waited counts, as a broker
// counts it [MQTT-3.3.2-6], and a message whose interval ran out is not sent at all.
// (The one test here that waits: the interval has a resolution of a second.)
TEST(Client, QueuedMessagesExpireAndGoOutWithWhatIsLeft) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  auto conn = broker.accept();  // TCP is up; no CONNACK yet, so publishes are queued
  auto short_lived = client.publish({.topic = "t",
                                     .payload = "short",
                                     .qos = QoS::at_least_once,
                                     .properties = {.message_expiry_interval = 1}});
  auto long_lived = client.publish({.topic = "t",
                                    .payload = "long",
                                    .qos = QoS::at_least_once,
                                    .properties = {.message_expiry_interval = 60}});
  std::this_thread::sleep_for(2100ms);
  ASSERT_TRUE(conn.read_as<codec::Connect>());
  conn.write(codec::Connack{});
  ASSERT_FALSE(get(started).error);
  EXPECT_EQ(get(short_lived).error.kind, ErrorKind::expired);
  auto publish = conn.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  EXPECT_EQ(publish->payload, "long");  // the expired one never went out
  ASSERT_TRUE(publish->properties.message_expiry_interval);
  EXPECT_LE(*publish->properties.message_expiry_interval, 58u);  // 2 s or more waited
  EXPECT_GE(*publish->properties.message_expiry_interval, 1u);
  conn.write(codec::Puback{.packet_id = publish->packet_id});
  EXPECT_FALSE(get(long_lived).error);
}

TEST(Client, ReconnectRestoresSubscriptionsThenUpThenQueue) {
  FakeBroker broker;
  Client client(options_for(broker));
  std::atomic<int> ups{0};
  client.on_connection_up([&](const ConnackInfo&) {
    if (++ups == 2) {
      // Blocking in on_connection_up is allowed: it runs off the I/O thread.
      auto result = client.subscribe("from/up", QoS::at_most_once).get();
      EXPECT_FALSE(result.error) << result.error.describe();
    }
  });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto sub = client.subscribe("a/#", QoS::at_least_once);
  auto subscribe = conn.read_as<codec::Subscribe>();
  ASSERT_TRUE(subscribe);
  conn.write(codec::Suback{.packet_id = subscribe->packet_id,
                           .reason_codes = {ReasonCode::granted_qos_1}});
  EXPECT_FALSE(get(sub).error);
  conn.close();

  auto conn2 = broker.accept();
  ASSERT_TRUE(conn2.read_as<codec::Connect>());
  // Published while the client waits for CONNACK: it waits in the offline queue.
  auto queued = client.publish({.topic = "t", .payload = "queued", .qos = QoS::at_least_once});
  conn2.write(codec::Connack{.session_present = false});
  auto restore = conn2.read_as<codec::Subscribe>();
  ASSERT_TRUE(restore);
  ASSERT_EQ(restore->subscriptions.size(), 1u);
  EXPECT_EQ(restore->subscriptions[0].filter, "a/#");
  EXPECT_EQ(restore->subscriptions[0].options.max_qos, QoS::at_least_once);
  auto from_up = conn2.read_as<codec::Subscribe>();
  ASSERT_TRUE(from_up) << "on_connection_up's SUBSCRIBE must come before queued messages";
  EXPECT_EQ(from_up->subscriptions[0].filter, "from/up");
  conn2.write(
      codec::Suback{.packet_id = restore->packet_id, .reason_codes = {ReasonCode::granted_qos_1}});
  conn2.write(
      codec::Suback{.packet_id = from_up->packet_id, .reason_codes = {ReasonCode::success}});
  auto publish = conn2.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  EXPECT_EQ(publish->payload, "queued");
  conn2.write(codec::Puback{.packet_id = publish->packet_id});
  EXPECT_FALSE(get(queued).error);
}

TEST(Client, FailsOverToTheNextServer) {
  std::string dead;
  {
    FakeBroker closed;
    dead = closed.uri();
  }
  FakeBroker broker;
  auto options = options_for(broker);
  options.servers = {dead, broker.uri()};
  Client client(options);
  auto started = client.start();
  auto conn = handshake(broker);
  auto result = get(started);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.connack.uri, broker.uri());
}

TEST(Client, CoroutinePublish) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  boost::asio::io_context app;
  std::promise<PublishResult> outcome;
  boost::asio::co_spawn(
      app,
      [&]() -> boost::asio::awaitable<void> {
        // A named local, not a temporary inside co_await: GCC 12 mis-destroys those.
        Message message{.topic = "co", .payload = "await", .qos = QoS::at_least_once};
        auto result = co_await client.async_publish(std::move(message), boost::asio::use_awaitable);
        outcome.set_value(result);
      },
      boost::asio::detached);
  std::thread runner([&] { app.run(); });
  auto publish = conn.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  EXPECT_EQ(publish->payload, "await");
  conn.write(codec::Puback{.packet_id = publish->packet_id});
  auto future = outcome.get_future();
  auto result = get(future);
  EXPECT_FALSE(result.error);
  runner.join();
}

TEST(Client, InvalidTopicAndFilterAreRejectedLocally) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto bad_topic = client.publish({.topic = "a/+", .qos = QoS::at_least_once});
  EXPECT_EQ(get(bad_topic).error.kind, ErrorKind::invalid_argument);
  auto bad_filter = client.subscribe("a/#/b");
  EXPECT_EQ(get(bad_filter).error.kind, ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace cicada::client

namespace cicada::client {
namespace {

TEST(ClientResume, TopicAliasesUsedWhenBrokerAllows) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  codec::Connack connack;
  connack.properties.topic_alias_maximum = 2;
  auto conn = handshake(broker, connack);
  ASSERT_FALSE(get(started).error);
  auto first = client.publish({.topic = "alias/topic", .payload = "1"});
  auto second = client.publish({.topic = "alias/topic", .payload = "2"});
  auto p1 = conn.read_as<codec::Publish>();
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->topic, "alias/topic");
  EXPECT_EQ(p1->properties.topic_alias, std::optional<std::uint16_t>(1));
  auto p2 = conn.read_as<codec::Publish>();
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->topic, "");  // the alias alone stands for the topic [MQTT-3.3.2-12]
  EXPECT_EQ(p2->properties.topic_alias, std::optional<std::uint16_t>(1));
  EXPECT_EQ(p2->payload, "2");
  EXPECT_FALSE(get(first).error);
  EXPECT_FALSE(get(second).error);
}

TEST(ClientResume, NoAliasesWithoutBrokerPermission) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto first = client.publish({.topic = "t", .payload = "1"});
  auto second = client.publish({.topic = "t", .payload = "2"});
  for (int i = 0; i < 2; ++i) {
    auto p = conn.read_as<codec::Publish>();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->topic, "t");
    EXPECT_FALSE(p->properties.topic_alias);
  }
}

TEST(ClientResume, Qos2AfterPubrecResumesWithPubrel) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.clean_start = false;
  Client client(options);
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto done = client.publish({.topic = "t", .payload = "p", .qos = QoS::exactly_once});
  auto publish = conn.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  conn.write(codec::Pubrec{.packet_id = publish->packet_id});
  ASSERT_TRUE(conn.read_as<codec::Pubrel>());
  conn.close();  // forced disconnect in the middle of the exchange

  auto conn2 = handshake(broker, codec::Connack{.session_present = true});
  auto pubrel = conn2.read_as<codec::Pubrel>();
  ASSERT_TRUE(pubrel) << "a released QoS 2 message resumes with PUBREL, not PUBLISH";
  EXPECT_EQ(pubrel->packet_id, publish->packet_id);
  conn2.write(codec::Pubcomp{.packet_id = publish->packet_id});
  EXPECT_FALSE(get(done).error);
}

TEST(ClientResume, InboundQos2AcrossReconnectDeliveredOnce) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.clean_start = false;
  Client client(options);
  std::mutex mutex;
  std::vector<std::string> payloads;
  std::promise<void> marker;
  client.on_message([&](const ReceivedMessage& m) {
    std::lock_guard lock(mutex);
    payloads.emplace_back(m.payload);
    if (m.payload == "marker") marker.set_value();
  });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  conn.write(
      codec::Publish{.qos = QoS::exactly_once, .topic = "q", .packet_id = 5, .payload = "once"});
  ASSERT_TRUE(conn.read_as<codec::Pubrec>());
  conn.close();  // PUBREL never arrived on this connection

  auto conn2 = handshake(broker, codec::Connack{.session_present = true});
  conn2.write(codec::Publish{
      .dup = true, .qos = QoS::exactly_once, .topic = "q", .packet_id = 5, .payload = "once"});
  ASSERT_TRUE(conn2.read_as<codec::Pubrec>());
  conn2.write(codec::Pubrel{.packet_id = 5});
  auto comp = conn2.read_as<codec::Pubcomp>();
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->reason_code, ReasonCode::success);
  conn2.write(codec::Publish{.topic = "q", .payload = "marker"});
  ASSERT_EQ(marker.get_future().wait_for(wait_limit), std::future_status::ready);
  std::lock_guard lock(mutex);
  EXPECT_EQ(payloads, (std::vector<std::string>{"once", "marker"}));
}

TEST(ClientResume, SubscribeWhileDisconnectedIsSentAfterConnack) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto sub = client.subscribe("later/#", QoS::at_least_once);
  auto started = client.start();
  auto conn = handshake(broker);
  auto subscribe = conn.read_as<codec::Subscribe>();
  ASSERT_TRUE(subscribe);
  ASSERT_EQ(subscribe->subscriptions.size(), 1u);
  EXPECT_EQ(subscribe->subscriptions[0].filter, "later/#");
  conn.write(codec::Suback{.packet_id = subscribe->packet_id,
                           .reason_codes = {ReasonCode::granted_qos_1}});
  auto result = get(sub);
  EXPECT_FALSE(result.error) << result.error.describe();
  EXPECT_EQ(result.reason_codes, std::vector<ReasonCode>{ReasonCode::granted_qos_1});
  EXPECT_FALSE(get(started).error);
}

TEST(ClientResume, RefusedSubscriptionIsReportedAndNotRestored) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto sub = client.subscribe({{.filter = "ok/#"}, {.filter = "secret/#"}});
  auto subscribe = conn.read_as<codec::Subscribe>();
  ASSERT_TRUE(subscribe);
  conn.write(codec::Suback{.packet_id = subscribe->packet_id,
                           .reason_codes = {ReasonCode::success, ReasonCode::not_authorized}});
  auto result = get(sub);
  EXPECT_EQ(result.error.kind, ErrorKind::rejected);
  EXPECT_EQ(result.error.reason, ReasonCode::not_authorized);
  conn.close();
  auto conn2 = handshake(broker);
  auto restore = conn2.read_as<codec::Subscribe>();
  ASSERT_TRUE(restore);
  ASSERT_EQ(restore->subscriptions.size(), 1u);
  EXPECT_EQ(restore->subscriptions[0].filter, "ok/#");
}

}  // namespace
}  // namespace cicada::client

namespace cicada::client {
namespace {

// Collects messages on the callback thread and hands them to the test thread.
struct Inbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<ReceivedMessage> messages;

  void add(const ReceivedMessage& m) {
    std::lock_guard lock(mutex);
    messages.push_back(m);
    changed.notify_all();
  }
  bool wait_for_count(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, wait_limit, [&] { return messages.size() >= n; });
  }
  ReceivedMessage at(std::size_t i) {
    std::lock_guard lock(mutex);
    return messages.at(i);
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

TEST(ClientManualAck, AcksLeaveInArrivalOrder) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.manual_ack = true;
  Client client(options);
  Inbox inbox;
  client.on_message([&](const ReceivedMessage& m) { inbox.add(m); });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  conn.write(
      codec::Publish{.qos = QoS::at_least_once, .topic = "m", .packet_id = 1, .payload = "1"});
  conn.write(
      codec::Publish{.qos = QoS::at_least_once, .topic = "m", .packet_id = 2, .payload = "2"});
  ASSERT_TRUE(inbox.wait_for_count(2));
  client.ack(inbox.at(1));  // the second first: it must wait for the first [MQTT-4.6.0-2]
  client.ack(inbox.at(0));
  auto a1 = conn.read_as<codec::Puback>();
  auto a2 = conn.read_as<codec::Puback>();
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(a1->packet_id, 1);
  EXPECT_EQ(a2->packet_id, 2);
}

TEST(ClientManualAck, Qos2AckedAfterReconnectIsDeliveredOnce) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.manual_ack = true;
  options.clean_start = false;
  Client client(options);
  Inbox inbox;
  client.on_message([&](const ReceivedMessage& m) { inbox.add(m); });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  conn.write(
      codec::Publish{.qos = QoS::exactly_once, .topic = "m", .packet_id = 3, .payload = "x"});
  ASSERT_TRUE(inbox.wait_for_count(1));
  conn.close();  // lost before the application acknowledged

  auto conn2 = handshake(broker, codec::Connack{.session_present = true});
  conn2.write(codec::Publish{
      .dup = true, .qos = QoS::exactly_once, .topic = "m", .packet_id = 3, .payload = "x"});
  client.ack(inbox.at(0));
  auto pubrec = conn2.read_as<codec::Pubrec>();
  ASSERT_TRUE(pubrec);
  EXPECT_EQ(pubrec->packet_id, 3);
  conn2.write(codec::Pubrel{.packet_id = 3});
  ASSERT_TRUE(conn2.read_as<codec::Pubcomp>());
  conn2.write(codec::Publish{.topic = "m", .payload = "marker"});
  ASSERT_TRUE(inbox.wait_for_count(2));
  EXPECT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox.at(1).payload, "marker");
}

}  // namespace
}  // namespace cicada::client

namespace cicada::client {
namespace {

TEST(ClientKeepAlive, SlowHandlerDoesNotStallPingreq) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.keep_alive = 1s;
  Client client(options);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> entered;
  client.on_message([&, released](const ReceivedMessage&) {
    entered.set_value();
    released.wait();  // a handler that does not return for a long time
  });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  conn.write(codec::Publish{.topic = "slow", .payload = "x"});
  ASSERT_EQ(entered.get_future().wait_for(wait_limit), std::future_status::ready);
  // The handler is still blocked; the I/O thread keeps the connection alive.
  EXPECT_TRUE(conn.read_as<codec::Pingreq>());
  conn.write(codec::Pingresp{});
  EXPECT_TRUE(conn.read_as<codec::Pingreq>());
  release.set_value();
}

TEST(ClientKeepAlive, MissingPingrespReconnects) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.keep_alive = 1s;
  Client client(options);
  std::promise<Error> down;
  std::atomic<bool> once{false};
  client.on_connection_down([&](const Error& e) {
    if (!once.exchange(true)) down.set_value(e);
  });
  std::promise<std::uint32_t> reconnecting;
  std::atomic<bool> once_r{false};
  client.on_reconnecting([&](std::uint32_t attempt, const std::string&) {
    if (!once_r.exchange(true)) reconnecting.set_value(attempt);
  });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  ASSERT_TRUE(conn.read_as<codec::Pingreq>());  // never answered
  auto conn2 = handshake(broker);               // the client gave up on conn and came back
  auto error = down.get_future();
  ASSERT_EQ(error.wait_for(wait_limit), std::future_status::ready);
  EXPECT_EQ(error.get().reason, ReasonCode::keep_alive_timeout);
  auto attempt = reconnecting.get_future();
  ASSERT_EQ(attempt.wait_for(wait_limit), std::future_status::ready);
  EXPECT_EQ(attempt.get(), 1u);
}

}  // namespace
}  // namespace cicada::client
