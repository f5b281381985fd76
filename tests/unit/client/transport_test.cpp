// Transport selection by URI scheme, seen from outside: which handshake a server that
// is not what the URI says makes fail, and TLS settings checked before connecting.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include <cicada/client/client.hpp>

#include "fake_broker.hpp"

namespace cicada::client {
namespace {

using cicada::client::testing::FakeBroker;

ConnectResult start_against_plain_tcp(const std::string& scheme, TlsOptions tls = {}) {
  FakeBroker broker;  // speaks MQTT over plain TCP only
  ClientOptions options;
  options.servers = {scheme + "://127.0.0.1:" + std::to_string(broker.port())};
  options.retry_initial_connect = false;
  options.tls = std::move(tls);
  Client client(options);
  auto started = client.start();
  {
    auto conn = broker.accept();  // and hang up at once
  }
  EXPECT_EQ(started.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  return started.get();
}

TEST(Transport, MqttsStartsWithATlsHandshake) {
  auto result = start_against_plain_tcp("mqtts");
  EXPECT_EQ(result.error.kind, ErrorKind::tls_failed) << result.error.describe();
  EXPECT_NE(result.error.message.find("TLS handshake failed"), std::string::npos);
}

TEST(Transport, WsStartsWithAnHttpUpgrade) {
  auto result = start_against_plain_tcp("ws");
  EXPECT_EQ(result.error.kind, ErrorKind::connect_failed) << result.error.describe();
  EXPECT_NE(result.error.message.find("WebSocket upgrade of /mqtt failed"), std::string::npos)
      << result.error.message;
}

TEST(Transport, WssStartsWithATlsHandshake) {
  auto result = start_against_plain_tcp("wss");
  EXPECT_EQ(result.error.kind, ErrorKind::tls_failed) << result.error.describe();
}

TEST(Transport, BadTlsFilesFailStartBeforeConnecting) {
  ClientOptions options;
  options.servers = {"mqtts://127.0.0.1:1"};
  options.tls.ca_file = "/nonexistent/ca.pem";
  Client client(options);
  auto result = client.start().get();
  EXPECT_EQ(result.error.kind, ErrorKind::invalid_argument);
  EXPECT_NE(result.error.message.find("cannot load CA file '/nonexistent/ca.pem'"),
            std::string::npos)
      << result.error.message;

  ClientOptions half;
  half.servers = {"wss://127.0.0.1:1"};
  half.tls.cert_file = "/nonexistent/client.pem";  // and no key
  Client other(half);
  auto refused = other.start().get();
  EXPECT_EQ(refused.error.kind, ErrorKind::invalid_argument);
  EXPECT_NE(refused.error.message.find("needs its key"), std::string::npos)
      << refused.error.message;
}

TEST(Transport, TlsSettingsAreIgnoredWithoutATlsServer) {
  // Only mqtts:// and wss:// build a TLS context, so a plain server list does not
  // fail on TLS files it never uses.
  FakeBroker broker;
  ClientOptions options;
  options.servers = {broker.uri()};
  options.retry_initial_connect = false;
  options.tls.ca_file = "/nonexistent/ca.pem";
  Client client(options);
  auto started = client.start();
  { auto conn = broker.accept(); }
  auto result = started.get();
  EXPECT_NE(result.error.kind, ErrorKind::invalid_argument) << result.error.describe();
}

}  // namespace
}  // namespace cicada::client
