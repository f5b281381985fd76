// MQTT 5 enhanced authentication (MQTT 5.0 section 4.12) and the CONNECT's request
// flags, against a scripted broker that plays a toy challenge / response method.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <cicada/client/client.hpp>

#include "fake_broker.hpp"

namespace cicada::client {
namespace {

using namespace std::chrono_literals;
using testing::FakeBroker;
using testing::FakeConnection;

constexpr auto wait_limit = 10s;

template <class T>
T get(std::future<T>& future) {
  EXPECT_EQ(future.wait_for(wait_limit), std::future_status::ready);
  return future.get();
}

// TOY: the client opens with "hello", and answers a challenge X with "answer:X";
// "refuse" makes it give up.
ClientOptions toy_options(const FakeBroker& broker) {
  ClientOptions options;
  options.servers = {broker.uri()};
  options.client_id = "auth";
  options.keep_alive = 0s;
  options.retry_initial_connect = false;
  options.auto_reconnect = false;
  options.enhanced_auth =
      EnhancedAuth{.method = "TOY",
                   .initial_data = [] { return std::string("hello"); },
                   .challenge = [](std::string_view data) -> std::optional<std::string> {
                     if (data == "refuse") return std::nullopt;
                     return "answer:" + std::string(data);
                   }};
  return options;
}

codec::Auth toy_auth(ReasonCode reason, std::string_view data, std::string_view method = "TOY") {
  codec::Auth auth{.reason_code = reason};
  auth.properties.authentication_method = method;
  if (!data.empty()) auth.properties.authentication_data = data;
  return auth;
}

codec::Connack toy_connack(std::string_view data) {
  codec::Connack connack;
  connack.properties.authentication_method = "TOY";
  connack.properties.authentication_data = data;
  return connack;
}

TEST(EnhancedAuth, ChallengesBeforeTheConnackAreAnswered) {
  FakeBroker broker;
  Client client(toy_options(broker));
  auto started = client.start();
  auto conn = broker.accept();
  auto connect = conn.read_as<codec::Connect>();
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->properties.authentication_method, std::optional<std::string_view>("TOY"));
  EXPECT_EQ(connect->properties.authentication_data, std::optional<std::string_view>("hello"));
  for (const char* nonce : {"n1", "n2"}) {  // two rounds, as SCRAM's server-first and more
    conn.write(toy_auth(ReasonCode::continue_authentication, nonce));
    auto answer = conn.read_as<codec::Auth>();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->reason_code, ReasonCode::continue_authentication);
    EXPECT_EQ(answer->properties.authentication_method, std::optional<std::string_view>("TOY"));
    EXPECT_EQ(answer->properties.authentication_data,
              std::optional<std::string_view>("answer:" + std::string(nonce)));
  }
  conn.write(toy_connack("welcome"));
  auto result = get(started);
  EXPECT_FALSE(result.error) << result.error.describe();
  EXPECT_EQ(result.connack.authentication_data, "welcome");
  EXPECT_TRUE(client.connected());
}

TEST(EnhancedAuth, GivingUpOrABrokenExchangeFailsTheConnect) {
  struct Case {
    codec::Packet from_broker;
    bool with_auth;
    const char* error;
  };
  const Case cases[] = {
      {toy_auth(ReasonCode::continue_authentication, "refuse"), true, "given up"},
      {toy_auth(ReasonCode::continue_authentication, "x", "OTHER"), true, "names method 'OTHER'"},
      {toy_auth(ReasonCode::success, "x"), true, "unexpected AUTH reason"},
      {toy_auth(ReasonCode::continue_authentication, "x"), false,
       "no authentication method was asked for"},
      {toy_connack("x"), false, "the CONNACK names authentication method 'TOY'"},
  };
  for (const Case& c : cases) {
    FakeBroker broker;
    ClientOptions options = toy_options(broker);
    if (!c.with_auth) options.enhanced_auth.reset();
    Client client(options);
    auto started = client.start();
    auto conn = broker.accept();
    ASSERT_TRUE(conn.read_as<codec::Connect>());
    conn.write(c.from_broker);
    auto result = get(started);
    EXPECT_EQ(result.error.kind, ErrorKind::connect_failed) << c.error;
    EXPECT_NE(result.error.describe().find(c.error), std::string::npos) << result.error.describe();
  }
}

// Connects with one challenge round.
FakeConnection connect_toy(FakeBroker& broker, Client& client) {
  auto started = client.start();
  auto conn = broker.accept();
  EXPECT_TRUE(conn.read_as<codec::Connect>());
  conn.write(toy_connack("welcome"));
  EXPECT_FALSE(get(started).error);
  return conn;
}

TEST(EnhancedAuth, ReauthenticationRunsTheExchangeAgain) {
  FakeBroker broker;
  Client client(toy_options(broker));
  auto conn = connect_toy(broker, client);
  auto done = client.reauthenticate();
  auto opening = conn.read_as<codec::Auth>();
  ASSERT_TRUE(opening);
  // [MQTT-4.12.1-1] reason 0x19 and the CONNECT's method.
  EXPECT_EQ(opening->reason_code, ReasonCode::re_authenticate);
  EXPECT_EQ(opening->properties.authentication_method, std::optional<std::string_view>("TOY"));
  EXPECT_EQ(opening->properties.authentication_data, std::optional<std::string_view>("hello"));
  conn.write(toy_auth(ReasonCode::continue_authentication, "n3"));
  auto answer = conn.read_as<codec::Auth>();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->properties.authentication_data, std::optional<std::string_view>("answer:n3"));
  conn.write(toy_auth(ReasonCode::success, ""));
  const Error error = get(done);
  EXPECT_FALSE(error) << error.describe();
  EXPECT_TRUE(client.connected());
  // Another may follow once that one is done.
  auto again = client.reauthenticate();
  ASSERT_TRUE(conn.read_as<codec::Auth>());
  conn.write(toy_auth(ReasonCode::success, ""));
  EXPECT_FALSE(get(again));
}

TEST(EnhancedAuth, RefusedReauthenticationEndsWithTheBrokersReason) {
  FakeBroker broker;
  Client client(toy_options(broker));
  auto conn = connect_toy(broker, client);
  auto done = client.reauthenticate();
  ASSERT_TRUE(conn.read_as<codec::Auth>());
  // [MQTT-4.12.1-2]: a failed re-authentication gets DISCONNECT.
  conn.write(codec::Disconnect{.reason_code = ReasonCode::not_authorized});
  const Error error = get(done);
  EXPECT_EQ(error.kind, ErrorKind::connection_lost);
  EXPECT_EQ(error.reason, ReasonCode::not_authorized);
}

TEST(EnhancedAuth, ClientThatGivesUpDisconnectsNotAuthorized) {
  FakeBroker broker;
  Client client(toy_options(broker));
  auto conn = connect_toy(broker, client);
  auto done = client.reauthenticate();
  ASSERT_TRUE(conn.read_as<codec::Auth>());
  conn.write(toy_auth(ReasonCode::continue_authentication, "refuse"));
  auto disconnect = conn.read_as<codec::Disconnect>();
  ASSERT_TRUE(disconnect);
  EXPECT_EQ(disconnect->reason_code, ReasonCode::not_authorized);
  EXPECT_EQ(get(done).kind, ErrorKind::rejected);
}

TEST(EnhancedAuth, MisuseIsRefusedLocally) {
  FakeBroker broker;
  ClientOptions options = toy_options(broker);
  options.enhanced_auth.reset();
  Client client(options);
  auto started = client.start();
  auto conn = broker.accept();
  ASSERT_TRUE(conn.read_as<codec::Connect>());
  conn.write(codec::Connack{});
  ASSERT_FALSE(get(started).error);
  auto without = client.reauthenticate();
  EXPECT_EQ(get(without).kind, ErrorKind::invalid_argument);
  // An AUTH nobody asked for is a protocol error [MQTT-4.12.0-6].
  conn.write(toy_auth(ReasonCode::continue_authentication, "x"));
  auto disconnect = conn.read_as<codec::Disconnect>();
  ASSERT_TRUE(disconnect);
  EXPECT_EQ(disconnect->reason_code, ReasonCode::protocol_error);
}

TEST(ConnectRequests, ProblemAndResponseInformation) {
  FakeBroker broker;
  ClientOptions options = toy_options(broker);
  options.enhanced_auth.reset();
  options.request_problem_information = false;
  options.request_response_information = true;
  Client client(options);
  auto started = client.start();
  auto conn = broker.accept();
  auto connect = conn.read_as<codec::Connect>();
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->properties.request_problem_information, std::optional<std::uint8_t>(0));
  EXPECT_EQ(connect->properties.request_response_information, std::optional<std::uint8_t>(1));
  codec::Connack connack;
  connack.properties.response_information = "replies/auth";
  conn.write(connack);
  auto result = get(started);
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.connack.response_information, "replies/auth");

  // The defaults send neither property.
  FakeBroker plain_broker;
  ClientOptions plain = toy_options(plain_broker);
  plain.enhanced_auth.reset();
  Client plain_client(plain);
  auto plain_started = plain_client.start();
  auto plain_conn = plain_broker.accept();
  auto plain_connect = plain_conn.read_as<codec::Connect>();
  ASSERT_TRUE(plain_connect);
  EXPECT_FALSE(plain_connect->properties.request_problem_information);
  EXPECT_FALSE(plain_connect->properties.request_response_information);
  EXPECT_FALSE(plain_connect->properties.authentication_method);
}

}  // namespace
}  // namespace cicada::client
