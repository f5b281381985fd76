// Inbound topic aliases against a scripted broker: the client advertises its Topic
// Alias Maximum, resolves aliases the broker defines, and treats a bad alias as a
// protocol error (DISCONNECT 0x94), with a fresh table on every connection.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

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
  options.client_id = "alias-unit";
  options.keep_alive = 0s;
  options.backoff = {50ms, 200ms, 100ms, 2.0};
  return options;
}

codec::Publish aliased(std::string_view topic, std::uint16_t alias, std::string_view payload) {
  codec::Publish p;
  p.topic = topic;
  p.payload = payload;
  p.properties.topic_alias = alias;
  return p;
}

// Collects delivered topics and payloads; wait_for(n) blocks until n arrived.
struct Inbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::string, std::string>> got;
  void add(const ReceivedMessage& m) {
    std::lock_guard lock(mutex);
    got.emplace_back(m.topic, std::string(m.payload));
    changed.notify_all();
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, wait_limit, [&] { return got.size() >= n; });
  }
};

TEST(ClientInboundAliases, AdvertisedAndResolved) {
  FakeBroker broker;
  Client client(options_for(broker));
  Inbox inbox;
  client.on_message([&](const ReceivedMessage& m) { inbox.add(m); });
  auto started = client.start();
  auto conn = broker.accept();
  auto connect = conn.read_as<codec::Connect>();
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->properties.topic_alias_maximum, std::optional<std::uint16_t>(16));
  conn.write(codec::Connack{});
  ASSERT_EQ(started.wait_for(wait_limit), std::future_status::ready);

  conn.write(aliased("sensors/1/temp", 1, "a"));  // defines 1
  conn.write(aliased("", 1, "b"));                // uses it
  conn.write(aliased("other", 16, "c"));          // the maximum itself is allowed
  conn.write(aliased("sensors/2/temp", 1, "d"));  // redefines 1
  conn.write(aliased("", 1, "e"));
  conn.write(aliased("", 16, "f"));
  ASSERT_TRUE(inbox.wait_for(6));
  std::lock_guard lock(inbox.mutex);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"sensors/1/temp", "a"}, {"sensors/1/temp", "b"}, {"other", "c"},
      {"sensors/2/temp", "d"}, {"sensors/2/temp", "e"}, {"other", "f"}};
  EXPECT_EQ(inbox.got, expected);
}

void expect_disconnect_0x94(FakeConnection& conn) {
  auto disconnect = conn.read_as<codec::Disconnect>();
  ASSERT_TRUE(disconnect) << "a bad alias ends the connection with DISCONNECT";
  EXPECT_EQ(disconnect->reason_code, ReasonCode::topic_alias_invalid);
  EXPECT_FALSE(conn.read()) << "and the client closes the connection";
}

TEST(ClientInboundAliases, AboveTheMaximumIsAProtocolError) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.topic_alias_maximum = 4;
  Client client(options);
  std::promise<Error> down;
  client.on_connection_down([&](const Error& e) { down.set_value(e); });
  auto started = client.start();
  auto conn = broker.accept();
  ASSERT_TRUE(conn.read_as<codec::Connect>());
  conn.write(codec::Connack{});
  ASSERT_EQ(started.wait_for(wait_limit), std::future_status::ready);
  conn.write(aliased("t", 5, "x"));
  expect_disconnect_0x94(conn);
  auto lost = down.get_future();
  ASSERT_EQ(lost.wait_for(wait_limit), std::future_status::ready);
  auto error = lost.get();
  EXPECT_EQ(error.kind, ErrorKind::protocol_error);
  EXPECT_EQ(error.reason, ReasonCode::topic_alias_invalid);
  EXPECT_NE(error.message.find("above our Topic Alias Maximum of 4"), std::string::npos)
      << error.message;
}

TEST(ClientInboundAliases, MappingsDoNotCarryOverToTheNextConnection) {
  FakeBroker broker;
  Client client(options_for(broker));
  Inbox inbox;
  client.on_message([&](const ReceivedMessage& m) { inbox.add(m); });
  auto started = client.start();
  {
    auto conn = broker.accept();
    ASSERT_TRUE(conn.read_as<codec::Connect>());
    conn.write(codec::Connack{});
    conn.write(aliased("first", 3, "1"));
    ASSERT_TRUE(inbox.wait_for(1));
    conn.close();
  }
  auto conn = broker.accept();  // the client reconnects
  ASSERT_TRUE(conn.read_as<codec::Connect>());
  conn.write(codec::Connack{});
  conn.write(aliased("", 3, "2"));  // [MQTT-3.3.2-7] alias 3 is unknown here
  expect_disconnect_0x94(conn);
  std::lock_guard lock(inbox.mutex);
  EXPECT_EQ(inbox.got.size(), 1u);
}

TEST(ClientInboundAliases, OffWhenTheMaximumIsZero) {
  FakeBroker broker;
  auto options = options_for(broker);
  options.topic_alias_maximum = 0;
  Client client(options);
  auto started = client.start();
  auto conn = broker.accept();
  auto connect = conn.read_as<codec::Connect>();
  ASSERT_TRUE(connect);
  EXPECT_FALSE(connect->properties.topic_alias_maximum) << "0 is not sent (it is the default)";
  conn.write(codec::Connack{});
  ASSERT_EQ(started.wait_for(wait_limit), std::future_status::ready);
  conn.write(aliased("t", 1, "x"));
  expect_disconnect_0x94(conn);
}

}  // namespace
}  // namespace cicada::client
