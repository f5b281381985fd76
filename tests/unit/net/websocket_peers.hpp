// The peers of the WebSocketLayer tests: the server end of a loopback TCP pair, driven
// as a broker connection drives its layer (wait for the readiness the layer asks for,
// then call it without blocking), and Boost.Beast's synchronous WebSocket client in a
// thread of its own.
// Thread-safety: a ServerEnd belongs to the test's thread, a Client to its ClientThread.
#pragma once

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

#include "net/websocket_layer.hpp"

namespace cicada::net::ws_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = asio::ip::tcp;
using Bytes = std::vector<std::uint8_t>;

inline Bytes pattern(std::size_t size, unsigned seed) {
  Bytes out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& byte : out) {
    x = x * 1664525u + 1013904223u;
    byte = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

inline std::string text(const Bytes& bytes) {
  return {bytes.begin(), bytes.end()};
}

// A guard against a hang, not a timing assertion: a correct run never gets near it.
constexpr int hang_guard_ms = 20'000;

class ServerEnd {
 public:
  explicit ServerEnd(WebSocketOptions options = {}, std::unique_ptr<StreamLayer> lower = nullptr)
      : acceptor_(io_, {asio::ip::address_v4::loopback(), 0}),
        socket_(io_),
        layer_(std::move(options), std::move(lower)) {}

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  WebSocketLayer& layer() { return layer_; }
  Socket& socket() { return socket_; }

  void accept(int send_buffer = 0) {
    acceptor_.accept(socket_);
    if (send_buffer > 0)
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDBUF, &send_buffer,
                   sizeof send_buffer);
    socket_.non_blocking(true);
  }

  void close() {
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
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
  Socket socket_;
  WebSocketLayer layer_;
};

// Beast's synchronous WebSocket client, in a thread of its own.
struct Client {
  asio::io_context io;
  ws::stream<Socket> stream{io};
  ws::response_type response;

  void connect(unsigned short port, std::string subprotocol = "mqtt", int receive_buffer = 0,
               const std::string& path = "/mqtt") {
    Socket& socket = stream.next_layer();
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

}  // namespace cicada::net::ws_test
