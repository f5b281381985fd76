// WebSocketLayer end to end over a loopback TCP pair, against Boost.Beast's WebSocket
// client: the server end is driven as a broker connection drives its layer (wait for
// the readiness the layer asks for, then call it without blocking).
#include "net/websocket_layer.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cicada::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = asio::ip::tcp;
using Bytes = std::vector<std::uint8_t>;

Bytes pattern(std::size_t size, unsigned seed) {
  Bytes out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& byte : out) {
    x = x * 1664525u + 1013904223u;
    byte = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

std::string text(const Bytes& bytes) {
  return {bytes.begin(), bytes.end()};
}

// A guard against a hang, not a timing assertion: a correct run never gets near it.
constexpr int hang_guard_ms = 20'000;

// A lower layer standing in for TLS under wss: it moves at most 7 bytes per socket
// call and holds up to 64 bytes of output of its own, so the WebSocket layer meets
// short reads, short writes and a lower layer with pending output.
class ChoppingLayer final : public StreamLayer {
 public:
  std::size_t read_some(tcp::socket& socket, std::span<std::uint8_t> into,
                        boost::system::error_code& error) override {
    return socket.read_some(asio::buffer(into.data(), std::min<std::size_t>(into.size(), 7)),
                            error);
  }
  Wait read_wants() const noexcept override { return Wait::readable; }
  bool read_buffered() const noexcept override { return false; }

  std::size_t write_some(tcp::socket& socket, std::span<const iovec> buffers,
                         boost::system::error_code& error) override {
    error.clear();
    flush(socket, error);
    if (error && error != asio::error::would_block) return 0;
    std::size_t taken = 0;
    for (const iovec& buffer : buffers) {
      const std::size_t n = std::min(buffer.iov_len, 64 - held_.size());
      held_.append(static_cast<const char*>(buffer.iov_base), n);
      taken += n;
      if (held_.size() == 64) break;
    }
    error.clear();
    if (taken == 0 && !buffers.empty()) error = asio::error::would_block;
    boost::system::error_code ignored;
    flush(socket, ignored);
    return taken;
  }
  Wait write_wants() const noexcept override { return Wait::writable; }
  bool write_pending() const noexcept override { return !held_.empty(); }

  void shutdown(tcp::socket& socket) noexcept override {
    boost::system::error_code ignored;
    flush(socket, ignored);
    shut_down_ = true;
  }
  const PeerIdentity* peer_identity() const noexcept override { return &identity_; }

  bool shut_down_ = false;

 private:
  void flush(tcp::socket& socket, boost::system::error_code& error) {
    while (!held_.empty()) {
      const std::size_t n = socket.write_some(
          asio::buffer(held_.data(), std::min<std::size_t>(held_.size(), 7)), error);
      if (error) return;
      held_.erase(0, n);
    }
  }

  std::string held_;
  PeerIdentity identity_{.subject = "CN=alice", .common_name = "alice"};
};

class ServerEnd {
 public:
  explicit ServerEnd(WebSocketOptions options = {}, std::unique_ptr<StreamLayer> lower = nullptr)
      : acceptor_(io_, {asio::ip::address_v4::loopback(), 0}),
        socket_(io_),
        layer_(std::move(options), std::move(lower)) {}

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  WebSocketLayer& layer() { return layer_; }
  tcp::socket& socket() { return socket_; }

  void accept(int send_buffer = 0) {
    acceptor_.accept(socket_);
    if (send_buffer > 0)
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDBUF, &send_buffer,
                   sizeof send_buffer);
    socket_.non_blocking(true);
  }

  void close() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  bool wait(StreamLayer::Wait wait) {
    pollfd fd{socket_.native_handle(),
              static_cast<short>(wait == StreamLayer::Wait::readable ? POLLIN : POLLOUT), 0};
    return ::poll(&fd, 1, hang_guard_ms) == 1;
  }

  // Reads until `size` application bytes arrived (no error), or the stream ended (its error).
  boost::system::error_code read(std::size_t size, Bytes& out) {
    std::array<std::uint8_t, 2048> buffer{};
    while (out.size() < size) {
      boost::system::error_code error;
      const std::size_t n = layer_.read_some(socket_, buffer, error);
      if (error == asio::error::would_block) {
        if (!layer_.read_buffered() && !wait(layer_.read_wants())) return asio::error::timed_out;
        continue;
      }
      if (error) return error;
      EXPECT_GT(n, 0u);
      out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return {};
  }

  boost::system::error_code read_to_end(Bytes& out) {
    return read(std::numeric_limits<std::size_t>::max(), out);
  }

  // Writes `data` in write_some calls of at most `chunk` bytes, then flushes the layer.
  boost::system::error_code write(const Bytes& data, std::size_t chunk,
                                  bool* saw_pending = nullptr) {
    std::size_t at = 0;
    while (at < data.size() || layer_.write_pending()) {
      iovec iov{const_cast<std::uint8_t*>(data.data()) + at, std::min(chunk, data.size() - at)};
      boost::system::error_code error;
      const std::size_t n = layer_.write_some(socket_, {&iov, at < data.size() ? 1u : 0u}, error);
      if (error && error != asio::error::would_block) return error;
      at += n;
      if (n > 0 && layer_.write_pending() && saw_pending != nullptr) *saw_pending = true;
      const bool blocked = error == asio::error::would_block || (n == 0 && layer_.write_pending());
      if (blocked && !wait(layer_.write_wants())) return asio::error::timed_out;
    }
    return {};
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::socket socket_;
  WebSocketLayer layer_;
};

// Beast's synchronous WebSocket client, in a thread of its own.
struct Client {
  asio::io_context io;
  ws::stream<tcp::socket> stream{io};
  ws::response_type response;

  void connect(unsigned short port, std::string subprotocol = "mqtt", int receive_buffer = 0,
               const std::string& path = "/mqtt") {
    tcp::socket& socket = stream.next_layer();
    socket.open(tcp::v4());
    if (receive_buffer > 0)
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                   sizeof receive_buffer);
    // The same hang guard for the client's blocking reads.
    timeval guard{hang_guard_ms / 1000, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
    socket.connect({asio::ip::address_v4::loopback(), port});
    if (!subprotocol.empty()) {
      stream.set_option(ws::stream_base::decorator([subprotocol](ws::request_type& request) {
        request.set(beast::http::field::sec_websocket_protocol, subprotocol);
      }));
    }
    stream.handshake(response, "127.0.0.1", path);
    stream.binary(true);
  }

  std::string read_message() {
    beast::flat_buffer buffer;
    stream.read(buffer);
    return beast::buffers_to_string(buffer.data());
  }
};

// Runs `client` in a thread while the test's body drives the server end. join()
// closes the server's socket first, as a broker does after the end of stream: a
// WebSocket client waits for the server to close the TCP connection [RFC 6455 §7.1.1].
class ClientThread {
 public:
  ClientThread(ServerEnd& server, std::function<void(Client&)> body)
      : server_(server), thread_([this, body = std::move(body)] {
          try {
            body(client_);
          } catch (const std::exception& e) {
            error_ = e.what();
          }
          finished_ = true;
        }) {}
  ~ClientThread() {
    if (thread_.joinable()) join();
  }
  // For a client that ends on its own: closing the socket under unread request bytes
  // would reset the connection, and the client could lose the response.
  void wait_finished() {
    for (int waited = 0; !finished_ && waited < hang_guard_ms; ++waited)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // What the client threw ("" when nothing).
  std::string join() {
    server_.close();
    thread_.join();
    return error_;
  }

 private:
  ServerEnd& server_;
  Client client_;
  std::string error_;
  std::atomic<bool> finished_ = false;
  std::thread thread_;
};

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
  client.wait_finished();
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(handshake_error, "declined");
  EXPECT_EQ(status, 404u);
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

// A raw client that sends its first frame in the same write as the upgrade request
// (no waiting for the 101) and then a byte at a time: nothing is lost.
TEST(WebSocketLayer, ReadsFramesSentTogetherWithTheRequestAndOneByteAtATime) {
  ServerEnd server;
  const std::string request =
      "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
  auto masked = [](std::string_view payload) {
    std::string frame{'\x82', static_cast<char>(0x80 | payload.size()), 1, 2, 3, 4};
    for (std::size_t i = 0; i < payload.size(); ++i)
      frame += static_cast<char>(payload[i] ^ static_cast<char>(1 + i % 4));
    return frame;
  };
  std::string response;
  ClientThread client(server, [&](Client& c) {
    tcp::socket& socket = c.stream.next_layer();
    socket.connect({asio::ip::address_v4::loopback(), server.port()});
    asio::write(socket, asio::buffer(request + masked("early")));
    const std::string later = masked("later") + std::string{'\x88', '\x82', 0, 0, 0, 0, 3, '\xe8'};
    for (char byte : later)
      asio::write(socket, asio::buffer(&byte, 1));
    std::array<char, 512> buffer{};
    boost::system::error_code error;
    while (!error) {
      const std::size_t n = socket.read_some(asio::buffer(buffer), error);
      response.append(buffer.data(), n);
    }
  });
  server.accept();
  Bytes in;
  EXPECT_EQ(server.read_to_end(in), asio::error::eof);
  EXPECT_EQ(text(in), "earlylater");
  EXPECT_EQ(client.join(), "");
  EXPECT_EQ(response.rfind("HTTP/1.1 101 ", 0), 0u);
  // The echo of the client's Close (1000) ends the server's bytes.
  EXPECT_EQ(response.substr(response.size() - 4), std::string({'\x88', 2, 3, '\xe8'}));
}

// A client that floods Pings and reads nothing: the layer keeps only the latest Pong
// and goes on reading, so the data behind the flood still arrives.
TEST(WebSocketLayer, KeepsReadingThroughAPingFloodFromAClientThatDoesNotRead) {
  ServerEnd server;
  const std::string request =
      "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  std::string ping{'\x89', static_cast<char>(0x80 | 125), 0, 0, 0, 0};
  ping.append(125, 'p');  // with a zero masking key the payload goes as it is
  std::string flood;
  for (int i = 0; i < 200; ++i)
    flood += ping;
  ClientThread client(server, [&](Client& c) {
    tcp::socket& socket = c.stream.next_layer();
    socket.open(tcp::v4());
    int small = 4096;
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    socket.connect({asio::ip::address_v4::loopback(), server.port()});
    asio::write(socket, asio::buffer(request));
    for (int i = 0; i < 100; ++i)  // 20,000 Pings: 2.5 MB of Pongs if all were kept
      asio::write(socket, asio::buffer(flood));
    asio::write(socket, asio::buffer(std::string{'\x82', '\x83', 0, 0, 0, 0, 'e', 'n', 'd'}));
  });
  server.accept(/*send_buffer=*/4096);
  Bytes in;
  ASSERT_FALSE(server.read(3, in));
  EXPECT_EQ(text(in), "end");
  EXPECT_TRUE(server.layer().write_pending());  // the latest Pong waits for the client
  // The rest of one Pong under way and the latest one: 2 x (2 + 125) bytes at most.
  EXPECT_GT(server.layer().write_pending_bytes(), 0u);
  EXPECT_LE(server.layer().write_pending_bytes(), 2 * 127u);
  EXPECT_EQ(client.join(), "");
}

TEST(WebSocketLayer, WorksOverALowerLayerWithShortReadsAndWrites) {
  // The wss arrangement: the WebSocket layer over another layer (TLS in the broker).
  auto lower = std::make_unique<ChoppingLayer>();
  ChoppingLayer* chopping = lower.get();
  ServerEnd server({}, std::move(lower));
  const Bytes from_client = pattern(100'000, 3);
  const Bytes from_server = pattern(200'000, 4);
  Bytes received;
  std::vector<std::string> pongs;
  std::uint16_t code = 0;
  ClientThread client(server, [&](Client& c) {
    c.connect(server.port());
    c.stream.control_callback([&](ws::frame_type kind, beast::string_view payload) {
      if (kind == ws::frame_type::pong) pongs.emplace_back(payload);
    });
    c.stream.ping("wss");
    c.stream.write(asio::buffer(from_client));
    while (received.size() < from_server.size()) {
      const std::string message = c.read_message();
      received.insert(received.end(), message.begin(), message.end());
    }
    try {
      c.read_message();
    } catch (const beast::system_error&) {
    }
    code = c.stream.reason().code;
  });
  server.accept();
  Bytes in;
  ASSERT_FALSE(server.read(from_client.size(), in));
  EXPECT_TRUE(in == from_client);
  ASSERT_NE(server.layer().peer_identity(), nullptr);
  EXPECT_EQ(server.layer().peer_identity()->common_name, "alice");
  bool saw_pending = false;
  ASSERT_FALSE(server.write(from_server, 30'000, &saw_pending));
  EXPECT_TRUE(saw_pending);
  server.layer().shutdown(server.socket());
  EXPECT_TRUE(chopping->shut_down_);
  // shutdown() writes without blocking; the rest of the Close goes out on flushes.
  ASSERT_FALSE(server.write({}, 1));
  Bytes rest;
  EXPECT_EQ(server.read_to_end(rest), asio::error::eof);
  EXPECT_EQ(client.join(), "");
  EXPECT_TRUE(received == from_server);
  EXPECT_EQ(pongs, std::vector<std::string>{"wss"});
  EXPECT_EQ(code, ws::close_code::normal);
}

}  // namespace
}  // namespace cicada::net
