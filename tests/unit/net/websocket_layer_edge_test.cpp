// WebSocketLayer with hand-made peers: a raw client that does not wait for the 101,
// sends a byte at a time or floods Pings without reading, and a lower layer with
// short reads and writes standing where TLS stands for wss.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>
#include <string>
#include <vector>

#include "net/websocket_layer.hpp"
#include "websocket_peers.hpp"

namespace cicada::net {
namespace {

using namespace ws_test;  // NOLINT: the test peers
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = asio::ip::tcp;

// A lower layer standing in for TLS under wss: it moves at most 7 bytes per socket
// call and holds up to 64 bytes of output of its own, so the WebSocket layer meets
// short reads, short writes and a lower layer with pending output.
class ChoppingLayer final : public StreamLayer {
 public:
  std::size_t read_some(Socket& socket, std::span<std::uint8_t> into,
                        boost::system::error_code& error) override {
    return socket.read_some(asio::buffer(into.data(), std::min<std::size_t>(into.size(), 7)),
                            error);
  }
  Wait read_wants() const noexcept override { return Wait::readable; }
  bool read_buffered() const noexcept override { return false; }

  std::size_t write_some(Socket& socket, std::span<const iovec> buffers,
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

  void shutdown(Socket& socket) noexcept override {
    boost::system::error_code ignored;
    flush(socket, ignored);
    shut_down_ = true;
  }
  const PeerIdentity* peer_identity() const noexcept override { return &identity_; }

  bool shut_down_ = false;

 private:
  void flush(Socket& socket, boost::system::error_code& error) {
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
    Socket& socket = c.stream.next_layer();
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
    Socket& socket = c.stream.next_layer();
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
