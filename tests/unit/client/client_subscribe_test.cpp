// SUBSCRIBE / UNSUBSCRIBE properties against a scripted broker: Subscription
// Identifier and User Properties on the wire, identifiers surfaced on received
// messages, restored per identifier after a reconnect, and refused locally when they
// cannot be sent.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>

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
  options.client_id = "sub-unit";
  options.keep_alive = 0s;
  options.backoff = {50ms, 200ms, 100ms, 2.0};
  return options;
}

FakeConnection handshake(FakeBroker& broker, codec::Connack connack = {}) {
  auto conn = broker.accept();
  EXPECT_TRUE(conn.read_as<codec::Connect>().has_value());
  conn.write(connack);
  return conn;
}

template <class T>
T get(std::future<T>& future) {
  EXPECT_EQ(future.wait_for(wait_limit), std::future_status::ready);
  return future.get();
}

TEST(ClientSubscribeProperties, SentAndIdentifiersSurfaced) {
  FakeBroker broker;
  Client client(options_for(broker));
  std::promise<ReceivedMessage> got;
  client.on_message([&](const ReceivedMessage& m) { got.set_value(m); });
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);

  auto done = client.subscribe({{.filter = "s/#", .qos = QoS::at_least_once}},
                               {.subscription_identifier = 42, .user_properties = {{"k", "v"}}});
  auto subscribe = conn.read_as<codec::Subscribe>();
  ASSERT_TRUE(subscribe);
  EXPECT_EQ(subscribe->properties.subscription_identifiers, std::vector<std::uint32_t>{42});
  ASSERT_EQ(subscribe->properties.user_properties.size(), 1u);
  EXPECT_EQ(subscribe->properties.user_properties[0].name, "k");
  EXPECT_EQ(subscribe->properties.user_properties[0].value, "v");
  conn.write(codec::Suback{.packet_id = subscribe->packet_id,
                           .reason_codes = {ReasonCode::granted_qos_1}});
  EXPECT_FALSE(get(done).error);

  codec::Publish publish{.topic = "s/1", .payload = "x"};
  publish.properties.subscription_identifiers = {42, 7};  // [MQTT-3.3.4-4] one per match
  conn.write(publish);
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(wait_limit), std::future_status::ready);
  EXPECT_EQ(future.get().properties.subscription_identifiers, (std::vector<std::uint32_t>{42, 7}));

  auto unsub = client.unsubscribe({"s/#"}, {.user_properties = {{"why", "done"}}});
  auto unsubscribe = conn.read_as<codec::Unsubscribe>();
  ASSERT_TRUE(unsubscribe);
  ASSERT_EQ(unsubscribe->properties.user_properties.size(), 1u);
  EXPECT_EQ(unsubscribe->properties.user_properties[0].name, "why");
  conn.write(
      codec::Unsuback{.packet_id = unsubscribe->packet_id, .reason_codes = {ReasonCode::success}});
  EXPECT_FALSE(get(unsub).error);
}

TEST(ClientSubscribeProperties, RestoredWithTheirOwnIdentifiers) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  for (std::uint32_t id : {5u, 6u}) {
    auto done =
        client.subscribe({{.filter = "f/" + std::to_string(id)}}, {.subscription_identifier = id});
    auto subscribe = conn.read_as<codec::Subscribe>();
    ASSERT_TRUE(subscribe);
    conn.write(
        codec::Suback{.packet_id = subscribe->packet_id, .reason_codes = {ReasonCode::success}});
    EXPECT_FALSE(get(done).error);
  }
  conn.close();

  auto conn2 = handshake(broker, codec::Connack{.session_present = false});
  std::map<std::string, std::vector<std::uint32_t>> restored;
  for (int i = 0; i < 2; ++i) {
    auto subscribe = conn2.read_as<codec::Subscribe>();
    ASSERT_TRUE(subscribe) << "one SUBSCRIBE per identifier";
    ASSERT_EQ(subscribe->subscriptions.size(), 1u);
    restored[std::string(subscribe->subscriptions[0].filter)] =
        subscribe->properties.subscription_identifiers;
    conn2.write(
        codec::Suback{.packet_id = subscribe->packet_id, .reason_codes = {ReasonCode::success}});
  }
  EXPECT_EQ(restored["f/5"], std::vector<std::uint32_t>{5});
  EXPECT_EQ(restored["f/6"], std::vector<std::uint32_t>{6});
}

TEST(ClientSubscribeProperties, RefusedLocallyWhenTheyCannotBeSent) {
  FakeBroker broker;
  Client client(options_for(broker));
  auto started = client.start();
  codec::Connack connack;
  connack.properties.subscription_identifier_available = 0;
  auto conn = handshake(broker, connack);
  ASSERT_FALSE(get(started).error);
  auto zero = client.subscribe({{.filter = "a"}}, {.subscription_identifier = 0});
  EXPECT_EQ(get(zero).error.kind, ErrorKind::invalid_argument);
  auto big = client.subscribe({{.filter = "a"}}, {.subscription_identifier = 268'435'456});
  EXPECT_EQ(get(big).error.kind, ErrorKind::invalid_argument);
  auto unsupported = client.subscribe({{.filter = "a"}}, {.subscription_identifier = 1});
  auto result = get(unsupported);
  EXPECT_EQ(result.error.kind, ErrorKind::invalid_argument);
  EXPECT_EQ(result.error.reason, ReasonCode::subscription_identifiers_not_supported);
  // User properties alone are fine with that broker.
  auto plain = client.subscribe({{.filter = "a"}}, {.user_properties = {{"k", "v"}}});
  auto subscribe = conn.read_as<codec::Subscribe>();
  ASSERT_TRUE(subscribe);
  EXPECT_TRUE(subscribe->properties.subscription_identifiers.empty());
  conn.write(
      codec::Suback{.packet_id = subscribe->packet_id, .reason_codes = {ReasonCode::success}});
  EXPECT_FALSE(get(plain).error);
}

TEST(ClientSubscribeProperties, NeedMqtt5) {
  FakeBroker broker(ProtocolVersion::v3_1_1);
  auto options = options_for(broker);
  options.version = ProtocolVersion::v3_1_1;
  Client client(options);
  auto started = client.start();
  auto conn = handshake(broker);
  ASSERT_FALSE(get(started).error);
  auto sub = client.subscribe({{.filter = "a"}}, {.subscription_identifier = 3});
  EXPECT_EQ(get(sub).error.kind, ErrorKind::invalid_argument);
  auto unsub = client.unsubscribe({"a"}, {.user_properties = {{"k", "v"}}});
  EXPECT_EQ(get(unsub).error.kind, ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace cicada::client
