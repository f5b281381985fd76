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

TEST(Transport, BadTlsVersionOrCipherListFailsStart) {
  auto refused = [](TlsOptions tls) {
    ClientOptions options;
    options.servers = {"mqtts://127.0.0.1:1"};
    options.tls = std::move(tls);
    Client client(options);
    auto result = client.start().get();
    EXPECT_EQ(result.error.kind, ErrorKind::invalid_argument);
    return result.error.message;
  };
  EXPECT_NE(refused({.min_version = "tlsv1.1"}).find("RFC 8996"), std::string::npos);
  EXPECT_NE(refused({.min_version = "tls9"}).find("unknown TLS version 'tls9'"), std::string::npos);
  EXPECT_NE(refused({.ciphers = "NO-SUCH-CIPHER"}).find("no usable TLS 1.2 cipher"),
            std::string::npos);
  EXPECT_NE(refused({.ciphersuites = "TLS_NO_SUCH"}).find("no usable TLS 1.3 cipher suite"),
            std::string::npos);
  // Valid settings get as far as connecting (nothing listens on port 1).
  ClientOptions options;
  options.servers = {"mqtts://127.0.0.1:1"};
  options.retry_initial_connect = false;
  options.tls = {.min_version = "tlsv1.3",
                 .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256",
                 .ciphersuites = "TLS_AES_256_GCM_SHA384"};
  Client client(options);
  auto result = client.start().get();
  EXPECT_EQ(result.error.kind, ErrorKind::connect_failed) << result.error.describe();
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
