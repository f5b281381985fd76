// The client side of the opening handshake (RFC 6455 §4.1) against hand-written
// server responses, one check of §4.1's list per test, and against the broker's own
// server side.
#include "net/websocket_client_handshake.hpp"

#include <gtest/gtest.h>

#include <string>

#include "net/websocket_handshake.hpp"

namespace cicada::net::websocket {
namespace {

using State = ClientHandshake::State;

// RFC 6455 §1.3's example: the nonce "the sample nonce", its key and accept value.
constexpr std::array<std::uint8_t, 16> sample_nonce{'t', 'h', 'e', ' ', 's', 'a', 'm', 'p',
                                                    'l', 'e', ' ', 'n', 'o', 'n', 'c', 'e'};
constexpr std::string_view sample_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

ClientHandshake make(std::string subprotocol = "mqtt") {
  return ClientHandshake(
      {.host = "broker.example:8083", .path = "/mqtt", .subprotocol = std::move(subprotocol)},
      sample_nonce);
}

std::string response(std::string_view extra = "Sec-WebSocket-Protocol: mqtt\r\n",
                     std::string_view accept = sample_accept,
                     std::string_view status = "101 Switching Protocols") {
  std::string out = "HTTP/1.1 " + std::string(status) + "\r\n";
  out += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  if (!accept.empty()) out += "Sec-WebSocket-Accept: " + std::string(accept) + "\r\n";
  out += extra;
  out += "\r\n";
  return out;
}

std::size_t feed(ClientHandshake& handshake, std::string_view text) {
  return handshake.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

std::string failure(std::string_view text, std::string subprotocol = "mqtt") {
  ClientHandshake handshake = make(std::move(subprotocol));
  feed(handshake, text);
  EXPECT_EQ(handshake.state(), State::failed) << text;
  return handshake.error();
}

TEST(WebSocketClientHandshake, WritesTheUpgradeRequestOfRfc6455) {
  const std::string request = make().request();
  EXPECT_EQ(request.rfind("GET /mqtt HTTP/1.1\r\n", 0), 0u);
  for (std::string_view line :
       {"Host: broker.example:8083", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: mqtt"}) {
    EXPECT_NE(request.find("\r\n" + std::string(line) + "\r\n"), std::string::npos) << line;
  }
  EXPECT_TRUE(request.ends_with("\r\n\r\n"));
  EXPECT_EQ(make("").request().find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(WebSocketClientHandshake, AcceptsA101AndLeavesTheFirstFramesToTheCaller) {
  ClientHandshake handshake = make();
  const std::string header = response();
  const std::string text = header + "\x82\x02\x20\x02";  // a CONNACK frame right behind it
  EXPECT_EQ(feed(handshake, text), header.size());
  EXPECT_EQ(handshake.state(), State::accepted);
  EXPECT_EQ(handshake.subprotocol(), "mqtt");
}

TEST(WebSocketClientHandshake, CollectsAResponseArrivingOneByteAtATime) {
  ClientHandshake handshake = make();
  const std::string text = response();
  std::size_t taken = 0;
  for (char c : text) {
    ASSERT_EQ(handshake.state(), State::reading);
    taken += feed(handshake, std::string_view(&c, 1));
  }
  EXPECT_EQ(taken, text.size());
  EXPECT_EQ(handshake.state(), State::accepted);
}

TEST(WebSocketClientHandshake, AcceptsAServerThatNamesNoSubprotocol) {
  // RFC 6455 §4.1 6: only a subprotocol that was not offered fails the handshake.
  ClientHandshake handshake = make();
  feed(handshake, response(""));
  EXPECT_EQ(handshake.state(), State::accepted);
  EXPECT_EQ(handshake.subprotocol(), "");
}

TEST(WebSocketClientHandshake, FailsOnAnyStatusBut101) {
  // §4.1 1.
  EXPECT_EQ(failure(response("Content-Length: 0\r\n", "", "404 Not Found")),
            "HTTP 404 Not Found instead of 101 Switching Protocols");
  EXPECT_NE(failure(response("", "", "400 Bad Request")).find("HTTP 400"), std::string::npos);
}

TEST(WebSocketClientHandshake, FailsWithoutUpgradeOrConnectionTokens) {
  // §4.1 2 and 3.
  EXPECT_NE(failure("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
                .find("Upgrade: websocket"),
            std::string::npos);
  EXPECT_NE(failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
                .find("Connection: Upgrade"),
            std::string::npos);
}

TEST(WebSocketClientHandshake, FailsOnAWrongOrMissingAcceptValue) {
  // §4.1 4: proof that the server read this request.
  EXPECT_EQ(failure(response("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
            "Sec-WebSocket-Accept does not match the key sent");
  EXPECT_EQ(failure(response("", "")), "Sec-WebSocket-Accept does not match the key sent");
}

TEST(WebSocketClientHandshake, FailsOnAnExtensionOrASubprotocolNotOffered) {
  // §4.1 5 and 6.
  EXPECT_NE(failure(response("Sec-WebSocket-Extensions: permessage-deflate\r\n")).find("extension"),
            std::string::npos);
  EXPECT_EQ(failure(response("Sec-WebSocket-Protocol: mqttv3.1\r\n")),
            "the server chose subprotocol 'mqttv3.1', not the 'mqtt' offered");
  EXPECT_NE(failure(response("Sec-WebSocket-Protocol: mqtt\r\n"), "").find("subprotocol"),
            std::string::npos);
}

TEST(WebSocketClientHandshake, FailsOnAResponseTooLargeOrNotHttp) {
  ClientHandshake large({.host = "h", .max_response_size = 64}, sample_nonce);
  feed(large, "HTTP/1.1 101 Switching Protocols\r\nX-Padding: " + std::string(100, 'x'));
  EXPECT_EQ(large.state(), State::failed);
  EXPECT_NE(large.error().find("larger than 64 bytes"), std::string::npos);
  // An MQTT broker on the port answers a GET with no HTTP at all (or closes).
  EXPECT_NE(failure(std::string("\x20\x02\x00\x00 junk\r\n\r\n", 13)).find("not an HTTP response"),
            std::string::npos);
  // Refused on the first wrong byte, without waiting for a header's end.
  ClientHandshake early = make();
  feed(early, std::string("\x20\x02", 2));
  EXPECT_EQ(early.state(), State::failed);
  // A status line arriving a byte at a time is not refused for being short.
  ClientHandshake slow = make();
  feed(slow, "HT");
  EXPECT_EQ(slow.state(), State::reading);
}

TEST(WebSocketClientHandshake, CompletesAgainstTheBrokersServerSide) {
  ClientHandshake client = make();
  Handshake server;
  const std::string& request = client.request();
  server.feed({reinterpret_cast<const std::uint8_t*>(request.data()), request.size()});
  ASSERT_EQ(server.state(), Handshake::State::accepted);
  EXPECT_EQ(feed(client, server.response()), server.response().size());
  EXPECT_EQ(client.state(), State::accepted);
  EXPECT_EQ(client.subprotocol(), "mqtt");
}

}  // namespace
}  // namespace cicada::net::websocket
