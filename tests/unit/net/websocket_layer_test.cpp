// WebSocketLayer end to end over a loopback TCP pair, against Boost.Beast's WebSocket
// client (a peer nobody here wrote): handshake, data both ways, fragmentation,
// partial writes, ping, close, and the refusals a client sees.
#include "net/websocket_layer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <string>
#include <vector>

#include "websocket_peers.hpp"

namespace cicada::net {
namespace {

using namespace ws_test;  // NOLINT: the test peers
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = asio::ip::tcp;

TEST(WebSocketLayer, HandshakesWithMqttAndCarriesBytesBothWays) {
  ServerEnd server;
  std::string reply;
  std::string protocol;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    protocol = std::string(c.response[beast::http::field::sec_websocket_protocol]);
    c.stream.write(asio::buffer(std::string("hello from the client")));
    reply = c.read_message();
    c.stream.close(ws::close_code::normal);
  });
  server.accept();
  Bytes in;
  ASSERT_FALSE(server.read(21, in));
  EXPECT_EQ(text(in), "hello from the client");
  ASSERT_NE(server.layer().request(), nullptr);
  EXPECT_EQ(server.layer().request()->subprotocol, "mqtt");
  EXPECT_EQ(server.layer().request()->path, "/mqtt");
  const Bytes out(std::string_view("hello from the server").begin(),
                  std::string_view("hello from the server").end());
  ASSERT_FALSE(server.write(out, 1024));
  // The client's Close: echoed (its close() returns only then), then the end of stream.
  Bytes rest;
  EXPECT_EQ(server.read_to_end(rest), asio::error::eof);
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(protocol, "mqtt");
  EXPECT_EQ(reply, "hello from the server");
}

TEST(WebSocketLayer, ReceivesAMessageOfOneMebibyteInManyFrames) {
  ServerEnd server;
  const Bytes message = pattern(1 << 20, 1);
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    // Explicit fragments of an odd size: a first frame, continuations, the final one.
    constexpr std::size_t fragment = 10'007;
    for (std::size_t at = 0; at < message.size(); at += fragment) {
      const std::size_t size = std::min(fragment, message.size() - at);
      c.stream.write_some(at + size == message.size(), asio::buffer(message.data() + at, size));
    }
    c.stream.close(ws::close_code::normal);
  });
  server.accept();
  Bytes in;
  ASSERT_FALSE(server.read(message.size(), in));
  EXPECT_TRUE(in == message);
  Bytes rest;
  EXPECT_EQ(server.read_to_end(rest), asio::error::eof);
  EXPECT_EQ(client.join(), "");
}

TEST(WebSocketLayer, KeepsTheRestOfFramesTheSocketTakesOnlyPartOf) {
  ServerEnd server;
  const Bytes data = pattern(2 << 20, 2);
  Bytes received;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port(), "mqtt", /*receive_buffer=*/4096);
    c.stream.write(asio::buffer(std::string("go")));
    while (received.size() < data.size()) {
      const std::string message = c.read_message();
      received.insert(received.end(), message.begin(), message.end());
    }
    c.stream.close(ws::close_code::normal);
  });
  server.accept(/*send_buffer=*/4096);
  Bytes go;
  ASSERT_FALSE(server.read(2, go));
  bool saw_pending = false;
  ASSERT_FALSE(server.write(data, 100'000, &saw_pending));
  EXPECT_TRUE(saw_pending);  // some frame went out in pieces
  Bytes rest;
  EXPECT_EQ(server.read_to_end(rest), asio::error::eof);
  EXPECT_EQ(client.join(), "");
  EXPECT_TRUE(received == data);
}

TEST(WebSocketLayer, AnswersAPingWithItsPayload) {
  ServerEnd server;
  std::vector<std::string> pongs;
  std::string reply;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    c.stream.control_callback([&](ws::frame_type kind, beast::string_view payload) {
      if (kind == ws::frame_type::pong) pongs.emplace_back(payload);
    });
    c.stream.ping("are you there");
    c.stream.write(asio::buffer(std::string("after ping")));
    reply = c.read_message();
    c.stream.close(ws::close_code::normal);
  });
  server.accept();
  Bytes in;
  ASSERT_FALSE(server.read(10, in));
  EXPECT_EQ(text(in), "after ping");
  ASSERT_FALSE(server.write(Bytes{'o', 'k'}, 1024));
  Bytes rest;
  EXPECT_EQ(server.read_to_end(rest), asio::error::eof);
  EXPECT_EQ(client.join(), "");
  // The Pong was written before the reply, so the client saw it first.
  EXPECT_EQ(pongs, std::vector<std::string>{"are you there"});
  EXPECT_EQ(reply, "ok");
}

TEST(WebSocketLayer, ShutdownSendsANormalClose) {
  ServerEnd server;
  std::uint16_t code = 0;
  std::string read_error;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    c.stream.write(asio::buffer(std::string("ready")));
    try {
      c.read_message();
    } catch (const beast::system_error& e) {
      read_error = e.code() == ws::error::closed ? "closed" : e.code().message();
    }
    code = c.stream.reason().code;
  });
  server.accept();
  Bytes in;
  ASSERT_FALSE(server.read(5, in));
  server.layer().shutdown(server.socket());
  EXPECT_FALSE(server.layer().write_pending());
  // The client echoes the Close; then the stream ends.
  Bytes rest;
  EXPECT_EQ(server.read_to_end(rest), asio::error::eof);
  // Nothing more is sent after the Close.
  boost::system::error_code error;
  iovec late{const_cast<char*>("late"), 4};
  EXPECT_EQ(server.layer().write_some(server.socket(), {&late, 1}, error), 0u);
  EXPECT_EQ(error, WebSocketError::closed);
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(read_error, "closed");
  EXPECT_EQ(code, ws::close_code::normal);
}

TEST(WebSocketLayer, ClosesWith1003OnATextFrame) {
  ServerEnd server;
  std::uint16_t code = 0;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    c.stream.text(true);
    c.stream.write(asio::buffer(std::string("{\"not\": \"mqtt\"}")));
    try {
      c.read_message();
    } catch (const beast::system_error&) {
    }
    code = c.stream.reason().code;
  });
  server.accept();
  Bytes in;
  EXPECT_EQ(server.read_to_end(in), WebSocketError::text_frame);  // [MQTT-6.0.0-1]
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(code, ws::close_code::unknown_data);  // 1003
}

TEST(WebSocketLayer, ClosesWith1009OnAFrameAboveTheBound) {
  WebSocketOptions options;
  options.frames.max_frame_size = 1000;
  ServerEnd server(options);
  std::uint16_t code = 0;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    c.stream.write(asio::buffer(pattern(1000, 5)));  // one frame, at the bound
    c.stream.write(asio::buffer(pattern(2000, 6)));  // one frame, above it
    try {
      c.read_message();
    } catch (const beast::system_error&) {
    }
    code = c.stream.reason().code;
  });
  server.accept();
  Bytes in;
  EXPECT_EQ(server.read_to_end(in), WebSocketError::frame_too_large);
  EXPECT_TRUE(in == pattern(1000, 5));
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(code, ws::close_code::too_big);  // 1009
}

TEST(WebSocketLayer, RefusesAnUpgradeRequestAboveTheBoundWith431) {
  WebSocketOptions options;
  options.handshake.max_request_size = 4096;
  ServerEnd server(options);
  unsigned status = 0;
  ClientThread client(server, [&](Client& c) {
    c.stream.set_option(ws::stream_base::decorator([](ws::request_type& request) {
      request.set(beast::http::field::cookie, std::string(5000, 'c'));
    }));
    try {
      c.connect(server.port(), "");
    } catch (const beast::system_error&) {
    }
    status = c.response.result_int();
  });
  server.accept();
  Bytes in;
  EXPECT_EQ(server.read_to_end(in), WebSocketError::request_too_large);
  client.wait_finished();
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(status, 431u);
}

TEST(WebSocketLayer, RefusesAnotherPathWith404ThenEnds) {
  ServerEnd server;
  unsigned status = 0;
  std::string handshake_error;
  ClientThread client(server, [&](Client& c) {
    try {
      c.connect(server.port(), "mqtt", 0, "/elsewhere");
    } catch (const beast::system_error& e) {
      handshake_error = e.code() == ws::error::upgrade_declined ? "declined" : e.code().message();
    }
    status = c.response.result_int();
  });
  server.accept();
  Bytes in;
  EXPECT_EQ(server.read_to_end(in), WebSocketError::wrong_path);
  EXPECT_EQ(server.layer().request(), nullptr);
  boost::system::error_code error;
  iovec data{const_cast<char*>("x"), 1};
  EXPECT_EQ(server.layer().write_some(server.socket(), {&data, 1}, error), 0u);
  EXPECT_EQ(error, WebSocketError::not_open);
  // An empty write only flushes (a connection calls it whenever write_pending() is
  // true), in every state: the 404 is out already, so there is nothing to do.
  EXPECT_EQ(server.layer().write_some(server.socket(), {}, error), 0u);
  EXPECT_FALSE(error);
  EXPECT_FALSE(server.layer().write_pending());
  client.wait_finished();
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(handshake_error, "declined");
  EXPECT_EQ(status, 404u);
}

TEST(WebSocketLayer, AnEmptyWriteBeforeTheRequestIsNoErrorButDataIs) {
  ServerEnd server;
  std::string reply;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    reply = c.read_message();
    c.stream.close(ws::close_code::normal);
  });
  server.accept();
  boost::system::error_code error;
  EXPECT_EQ(server.layer().write_some(server.socket(), {}, error), 0u);
  EXPECT_FALSE(error);
  iovec data{const_cast<char*>("early"), 5};
  EXPECT_EQ(server.layer().write_some(server.socket(), {&data, 1}, error), 0u);
  EXPECT_EQ(error, WebSocketError::not_open);
  // The handshake runs in read_some; until it is done no data goes out [RFC 6455 §4.2.2].
  Bytes in;
  while (server.layer().request() == nullptr) {
    // Nothing to read into: the call only advances the handshake.
    EXPECT_EQ(server.layer().read_some(server.socket(), {}, error), 0u);
    if (error != asio::error::would_block) break;
    ASSERT_TRUE(server.wait(server.layer().read_wants()));
  }
  ASSERT_NE(server.layer().request(), nullptr) << error.message();
  const Bytes out{'o', 'k'};
  ASSERT_FALSE(server.write(out, 16));
  EXPECT_EQ(server.read_to_end(in), asio::error::eof);
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(reply, "ok");
}

TEST(WebSocketLayer, AcceptsAClientWithoutSubprotocolAndAnswersWithoutOne) {
  ServerEnd server;
  bool has_protocol = true;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port(), /*subprotocol=*/"");
    has_protocol = c.response.find(beast::http::field::sec_websocket_protocol) != c.response.end();
    c.stream.write(asio::buffer(std::string("x")));
    c.stream.close(ws::close_code::normal);
  });
  server.accept();
  Bytes in;
  ASSERT_FALSE(server.read(1, in));
  EXPECT_EQ(server.layer().request()->subprotocol, "");
  Bytes rest;
  EXPECT_EQ(server.read_to_end(rest), asio::error::eof);
  EXPECT_EQ(client.join(), "");
  EXPECT_FALSE(has_protocol);
}

}  // namespace
}  // namespace cicada::net
