// The tool's WebSocket stream against the broker's server side (src/net's Handshake
// and FrameDecoder): what it writes is what a server accepts, and what a server sends
// comes out as MQTT bytes, Pong and Close answers, or a clear failure.
#include "websocket_stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/websocket_frames.hpp"
#include "net/websocket_handshake.hpp"

namespace cicada::bench {
namespace {

namespace ws = net::websocket;
using Bytes = std::vector<std::uint8_t>;

Bytes taken(OutBuffer& wire) {
  Bytes out(wire.data(), wire.data() + wire.size());
  wire.clear();
  return out;
}

// An unmasked server frame.
Bytes server_frame(ws::Opcode opcode, const Bytes& payload) {
  std::array<std::uint8_t, ws::max_server_header_size> header{};
  const std::size_t size = ws::encode_frame_header(opcode, payload.size(), header);
  Bytes out(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(size));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// Frames written by the client, decoded as the broker does: payload bytes, and the
// opcodes of the control frames seen.
struct ServerView {
  Bytes data;
  std::vector<ws::FrameDecoder::Event> events;
};
ServerView decode_as_server(Bytes wire) {
  ws::FrameDecoder decoder;
  ServerView view;
  std::size_t at = 0;
  while (at < wire.size() && !decoder.ended()) {
    auto step = decoder.decode({wire.data() + at, wire.size() - at}, wire.data() + at);
    view.data.insert(view.data.end(), wire.data() + at, wire.data() + at + step.data);
    at += step.consumed;
    if (step.event != ws::FrameDecoder::Event::none) view.events.push_back(step.event);
  }
  return view;
}

class WebSocketStreamTest : public ::testing::Test {
 protected:
  // Runs the upgrade through the broker's Handshake; `after` rides behind the 101.
  WebSocketStream::Result upgrade(const Bytes& after = {}) {
    stream.start(wire);
    Bytes request = taken(wire);
    server.feed(request);
    EXPECT_EQ(server.state(), ws::Handshake::State::accepted);
    Bytes input(server.response().begin(), server.response().end());
    input.insert(input.end(), after.begin(), after.end());
    return receive(input);
  }
  WebSocketStream::Result receive(Bytes input) {
    std::size_t data = 0;
    const auto result = stream.receive(input, data, wire);
    received.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(data));
    return result;
  }

  WebSocketStream stream{"127.0.0.1:8083", "/mqtt"};
  ws::Handshake server;
  OutBuffer wire;
  Bytes received;
};

TEST_F(WebSocketStreamTest, UpgradesAtThePathAndTakesFramesSentWithThe101) {
  const Bytes connack{0x20, 0x02, 0x00, 0x00};
  EXPECT_EQ(upgrade(server_frame(ws::Opcode::binary, connack)), WebSocketStream::Result::accepted);
  EXPECT_TRUE(stream.open());
  EXPECT_EQ(server.request().path, "/mqtt");
  EXPECT_EQ(server.request().subprotocol, "mqtt");
  EXPECT_EQ(received, connack);
}

TEST_F(WebSocketStreamTest, FramesOutputAsOneMaskedBinaryFrameAServerDecodes) {
  ASSERT_EQ(upgrade(), WebSocketStream::Result::accepted);
  OutBuffer out;
  Bytes mqtt(70'000);  // a 64-bit length
  for (std::size_t i = 0; i < mqtt.size(); ++i)
    mqtt[i] = static_cast<std::uint8_t>(i * 31);
  out.append(mqtt.data(), mqtt.size());
  stream.frame(out, wire);
  EXPECT_TRUE(out.empty());
  const Bytes framed = taken(wire);
  EXPECT_EQ(framed[0], 0x82);         // FIN, binary
  EXPECT_EQ(framed[1] & 0x80, 0x80);  // masked [RFC 6455 §5.1]
  EXPECT_EQ(decode_as_server(framed).data, mqtt);
}

TEST_F(WebSocketStreamTest, DeframesPiecesAndSeveralFramesInOneRead) {
  ASSERT_EQ(upgrade(), WebSocketStream::Result::accepted);
  Bytes input = server_frame(ws::Opcode::binary, {1, 2, 3});
  const Bytes second = server_frame(ws::Opcode::binary, {4, 5});
  input.insert(input.end(), second.begin(), second.end());
  const Bytes head(input.begin(), input.begin() + 3);  // cut inside the first frame
  const Bytes tail(input.begin() + 3, input.end());
  EXPECT_EQ(receive(head), WebSocketStream::Result::more);
  EXPECT_EQ(received, (Bytes{1}));
  EXPECT_EQ(receive(tail), WebSocketStream::Result::more);
  EXPECT_EQ(received, (Bytes{2, 3, 4, 5}));
}

TEST_F(WebSocketStreamTest, AnswersPingWithPongAndCloseWithClose) {
  ASSERT_EQ(upgrade(), WebSocketStream::Result::accepted);
  EXPECT_EQ(receive(server_frame(ws::Opcode::ping, {'h', 'i'})), WebSocketStream::Result::more);
  Bytes pong = taken(wire);
  EXPECT_EQ(pong[0], 0x8A);
  EXPECT_TRUE(decode_as_server(pong).events.empty());  // a Pong: nothing for the server to do
  EXPECT_EQ(receive(server_frame(ws::Opcode::close, {0x03, 0xE8})),
            WebSocketStream::Result::closed);
  EXPECT_EQ(stream.error(), "the broker closed the WebSocket (code 1000)");
  const ServerView close = decode_as_server(taken(wire));
  EXPECT_EQ(close.events, std::vector<ws::FrameDecoder::Event>{ws::FrameDecoder::Event::close});
  // Nothing is framed after the Close.
  OutBuffer out;
  out.append("x", 1);
  stream.frame(out, wire);
  EXPECT_TRUE(wire.empty());
}

TEST_F(WebSocketStreamTest, FailsOnARefusalOrAMaskedServerFrame) {
  WebSocketStream other{"127.0.0.1:8083", "/elsewhere"};
  other.start(wire);
  server.feed(taken(wire));
  ASSERT_EQ(server.state(), ws::Handshake::State::refused);
  Bytes refusal(server.response().begin(), server.response().end());
  std::size_t data = 0;
  EXPECT_EQ(other.receive(refusal, data, wire), WebSocketStream::Result::failed);
  EXPECT_EQ(other.error(),
            "WebSocket handshake: HTTP 404 Not Found instead of 101 Switching Protocols");

  ws::Handshake fresh;
  stream.start(wire);
  fresh.feed(taken(wire));
  Bytes input(fresh.response().begin(), fresh.response().end());
  input.insert(input.end(), {0x82, 0x81, 1, 2, 3, 4, 5});  // masked: servers never mask
  EXPECT_EQ(stream.receive(input, data, wire), WebSocketStream::Result::failed);
  EXPECT_NE(stream.error().find("masked server frame"), std::string::npos) << stream.error();
}

}  // namespace
}  // namespace cicada::bench
