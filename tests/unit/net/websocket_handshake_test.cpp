// The opening handshake against hand-written upgrade requests (RFC 6455 §4.2.1).
#include "net/websocket_handshake.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cicada::net::websocket {
namespace {

using State = Handshake::State;

// RFC 6455 §1.3's example key.
constexpr std::string_view sample_key = "dGhlIHNhbXBsZSBub25jZQ==";

std::string request(std::string_view extra = "Sec-WebSocket-Protocol: mqtt\r\n",
                    std::string_view path = "/mqtt", std::string_view version = "13") {
  std::string out = "GET " + std::string(path) + " HTTP/1.1\r\n";
  out += "Host: broker.example:8083\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Key: " + std::string(sample_key) + "\r\n";
  if (!version.empty()) out += "Sec-WebSocket-Version: " + std::string(version) + "\r\n";
  out += extra;
  out += "\r\n";
  return out;
}

struct Outcome {
  State state;
  WebSocketError error;
  std::string response;
};

Outcome run(std::string_view text, HandshakeOptions options = {}) {
  Handshake handshake(std::move(options));
  handshake.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  return {handshake.state(), handshake.error(), handshake.response()};
}

bool has_line(const std::string& response, std::string_view line) {
  return response.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}

void expect_refused(const Outcome& outcome, WebSocketError error, std::string_view status) {
  EXPECT_EQ(outcome.state, State::refused);
  EXPECT_EQ(outcome.error, error) << make_error_code(outcome.error).message();
  EXPECT_EQ(outcome.response.rfind("HTTP/1.1 " + std::string(status), 0), 0u) << outcome.response;
  EXPECT_TRUE(has_line(outcome.response, "Connection: close")) << outcome.response;
}

TEST(WebSocketHandshake, ComputesTheAcceptKeyOfRfc6455) {
  EXPECT_EQ(websocket_accept_key(sample_key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, AcceptsAnUpgradeWithTheMqttSubprotocol) {
  Handshake handshake;
  std::string text =
      request("Sec-WebSocket-Protocol: mqtt\r\nX-Forwarded-For: 203.0.113.7\r\n", "/mqtt?client=a");
  ASSERT_EQ(handshake.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}),
            text.size());
  ASSERT_EQ(handshake.state(), State::accepted);
  const std::string& response = handshake.response();
  EXPECT_EQ(response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_TRUE(has_line(response, "Upgrade: websocket"));
  EXPECT_TRUE(has_line(response, "Connection: Upgrade"));
  EXPECT_TRUE(has_line(response, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
  EXPECT_TRUE(has_line(response, "Sec-WebSocket-Protocol: mqtt"));
  EXPECT_EQ(response.substr(response.size() - 4), "\r\n\r\n");
  EXPECT_EQ(handshake.request().path, "/mqtt");
  EXPECT_EQ(handshake.request().subprotocol, "mqtt");
  EXPECT_EQ(handshake.request().forwarded_for, "203.0.113.7");
  EXPECT_TRUE(handshake.leftover().empty());
}

TEST(WebSocketHandshake, PrefersMqttAndAcceptsMqttv31) {
  Handshake both;
  std::string text = request("Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n");
  both.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  ASSERT_EQ(both.state(), State::accepted);
  EXPECT_EQ(both.request().subprotocol, "mqtt");
  Handshake v31;
  text = request("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: mqttv3.1\r\n");
  v31.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  ASSERT_EQ(v31.state(), State::accepted);
  EXPECT_EQ(v31.request().subprotocol, "mqttv3.1");
  EXPECT_TRUE(has_line(v31.response(), "Sec-WebSocket-Protocol: mqttv3.1"));
}

TEST(WebSocketHandshake, AcceptsNoSubprotocolUnlessRequired) {
  Outcome lenient = run(request(""));
  EXPECT_EQ(lenient.state, State::accepted);
  EXPECT_EQ(lenient.response.find("Sec-WebSocket-Protocol"), std::string::npos);
  Outcome other = run(request("Sec-WebSocket-Protocol: chat\r\n"));
  EXPECT_EQ(other.state, State::accepted);
  EXPECT_EQ(other.response.find("Sec-WebSocket-Protocol"), std::string::npos);
  expect_refused(run(request(""), {.require_subprotocol = true}), WebSocketError::no_subprotocol,
                 "400");
}

TEST(WebSocketHandshake, RefusesAnotherVersionWith426AndTheVersionItSpeaks) {
  for (std::string_view version : {"8", ""}) {
    Outcome outcome = run(request("", "/mqtt", version));
    expect_refused(outcome, WebSocketError::bad_version, "426");
    EXPECT_TRUE(has_line(outcome.response, "Sec-WebSocket-Version: 13")) << outcome.response;
  }
}

TEST(WebSocketHandshake, RefusesAMissingOrMalformedKey) {
  std::string text = request();
  std::string no_key = text;
  no_key.erase(
      no_key.find("Sec-WebSocket-Key"),
      no_key.find("\r\n", no_key.find("Sec-WebSocket-Key")) - no_key.find("Sec-WebSocket-Key") + 2);
  expect_refused(run(no_key), WebSocketError::bad_key, "400");
  std::string short_key = text;
  short_key.replace(short_key.find(sample_key), sample_key.size(), "c2hvcnQ=");
  expect_refused(run(short_key), WebSocketError::bad_key, "400");
}

TEST(WebSocketHandshake, RefusesAnotherPathWith404) {
  expect_refused(run(request("", "/ws")), WebSocketError::wrong_path, "404");
  expect_refused(run(request("", "/mqtt/x")), WebSocketError::wrong_path, "404");
  Outcome custom = run(request("", "/ws"), {.path = "/ws"});
  EXPECT_EQ(custom.state, State::accepted);
}

TEST(WebSocketHandshake, RefusesARequestThatIsNoUpgrade) {
  std::string text = request();
  std::string no_upgrade = text;
  no_upgrade.erase(no_upgrade.find("Upgrade: websocket\r\n"), 20);
  Outcome outcome = run(no_upgrade);
  expect_refused(outcome, WebSocketError::not_upgrade, "426");
  EXPECT_TRUE(has_line(outcome.response, "Upgrade: websocket"));
  std::string keep_alive = text;
  keep_alive.replace(keep_alive.find("Connection: Upgrade"), 19, "Connection: keep-alive");
  expect_refused(run(keep_alive), WebSocketError::not_upgrade, "426");
}

TEST(WebSocketHandshake, ReadsUpgradeAndConnectionAsCaseInsensitiveTokenLists) {
  std::string text = request();
  text.replace(text.find("Upgrade: websocket"), 18, "Upgrade: WebSocket");
  text.replace(text.find("Connection: Upgrade"), 19, "Connection: keep-alive, UPGRADE");
  EXPECT_EQ(run(text).state, State::accepted);
}

TEST(WebSocketHandshake, RefusesOtherMethodsOldHttpAndNoHost) {
  std::string text = request();
  std::string post = text;
  post.replace(0, 3, "POST");
  Outcome outcome = run(post);
  expect_refused(outcome, WebSocketError::method_not_allowed, "405");
  EXPECT_TRUE(has_line(outcome.response, "Allow: GET"));
  std::string http10 = text;
  http10.replace(http10.find("HTTP/1.1"), 8, "HTTP/1.0");
  expect_refused(run(http10), WebSocketError::bad_request, "400");
  std::string no_host = text;
  no_host.erase(no_host.find("Host: "),
                no_host.find("\r\n", no_host.find("Host: ")) - no_host.find("Host: ") + 2);
  expect_refused(run(no_host), WebSocketError::bad_request, "400");
  expect_refused(run("this is not HTTP\r\n\r\n"), WebSocketError::bad_request, "400");
  expect_refused(run(request("Content-Length: 5\r\n")), WebSocketError::bad_request, "400");
}

TEST(WebSocketHandshake, RefusesAHeaderAboveTheBoundWith431) {
  std::string huge = "GET /mqtt HTTP/1.1\r\nHost: x\r\nCookie: " + std::string(9000, 'c');
  Handshake handshake({.max_request_size = 8192});
  const std::size_t taken =
      handshake.feed({reinterpret_cast<const std::uint8_t*>(huge.data()), huge.size()});
  EXPECT_EQ(taken, 8192u);  // never buffers more than the bound
  EXPECT_EQ(handshake.state(), State::refused);
  EXPECT_EQ(handshake.error(), WebSocketError::request_too_large);
  EXPECT_EQ(handshake.response().rfind("HTTP/1.1 431 ", 0), 0u);
}

TEST(WebSocketHandshake, CompletesOnlyAtTheLastByteWhenFedOneByteAtATime) {
  std::string text = request();
  Handshake handshake;
  for (std::size_t i = 0; i < text.size(); ++i) {
    ASSERT_EQ(handshake.state(), State::reading) << i;
    auto space = handshake.prepare();
    ASSERT_FALSE(space.empty());
    space[0] = static_cast<std::uint8_t>(text[i]);
    handshake.commit(1);
  }
  EXPECT_EQ(handshake.state(), State::accepted);
}

TEST(WebSocketHandshake, ChecksTheOriginOnlyWhenAsked) {
  HandshakeOptions checked;
  checked.check_origin = true;
  checked.allowed_origins = {"https://app.example", "http://localhost:8080"};
  // Not asked: any origin.
  EXPECT_EQ(run(request("Origin: https://evil.example\r\n")).state, State::accepted);
  // Asked: the listed ones (case-insensitively), none at all by default, no other.
  EXPECT_EQ(run(request("Origin: https://app.example\r\n"), checked).state, State::accepted);
  EXPECT_EQ(run(request("Origin: HTTP://LocalHost:8080\r\n"), checked).state, State::accepted);
  EXPECT_EQ(run(request(""), checked).state, State::accepted);
  const Outcome evil = run(request("Origin: https://evil.example\r\n"), checked);
  EXPECT_EQ(evil.state, State::refused);
  EXPECT_EQ(evil.error, WebSocketError::origin_not_allowed);
  EXPECT_EQ(evil.response.rfind("HTTP/1.1 403 ", 0), 0u);
  // A prefix of an allowed origin is another origin.
  EXPECT_EQ(run(request("Origin: https://app.example.evil\r\n"), checked).error,
            WebSocketError::origin_not_allowed);
  checked.allow_origin_absence = false;
  EXPECT_EQ(run(request(""), checked).error, WebSocketError::origin_not_allowed);
}

TEST(WebSocketHandshake, RefusesBytesThatCannotStartARequestAtOnce) {
  // An MQTT CONNECT and a TLS ClientHello sent to a ws port: no "\r\n\r\n" would ever
  // come, so they are refused from their first bytes, not after a timeout.
  for (const std::string_view first_bytes :
       {std::string_view("\x10\x10\x00\x04MQTT", 8), std::string_view("\x16\x03\x01\x02", 4),
        std::string_view(" GET", 4), std::string_view("GE\rT", 4)}) {
    const Outcome outcome = run(first_bytes);
    EXPECT_EQ(outcome.state, State::refused);
    EXPECT_EQ(outcome.error, WebSocketError::bad_request);
    EXPECT_EQ(outcome.response.rfind("HTTP/1.1 400 ", 0), 0u);
  }
  // The start of a request line is waited on.
  EXPECT_EQ(run("GE").state, State::reading);
  EXPECT_EQ(run("GET /mq").state, State::reading);
  // A method that is a token but not GET still gets its 405.
  EXPECT_EQ(run("PATCH /mqtt HTTP/1.1\r\nHost: x\r\n\r\n").error,
            WebSocketError::method_not_allowed);
}

TEST(WebSocketHandshake, KeepsTheBytesSentAfterTheRequest) {
  std::string text = request() +
                     "\x82\x85"
                     "early";
  Handshake handshake;
  handshake.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  ASSERT_EQ(handshake.state(), State::accepted);
  auto leftover = handshake.leftover();
  EXPECT_EQ(std::string(leftover.begin(), leftover.end()),
            "\x82\x85"
            "early");
}

}  // namespace
}  // namespace cicada::net::websocket
