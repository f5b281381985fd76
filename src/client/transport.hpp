// TransportStream: the byte stream under one MQTT connection, chosen by the server URI's
// scheme: TCP (transport_tcp.cpp), TLS (transport_tls.cpp), WebSocket and WebSocket
// over TLS (transport_websocket.cpp). The session code reads and writes bytes through
// it and never knows which one it has.
// Thread-safety: I/O thread only; at most one read and one write outstanding at a time.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>
#include <string>

#include <cicada/base/expected.hpp>
#include <cicada/client/options.hpp>
#include <cicada/client/uri.hpp>

namespace boost::asio::ssl {
class context;
}

namespace cicada::client {

namespace asio = boost::asio;

// Why open() failed; empty `why` means it did not.
struct OpenError {
  boost::system::error_code code;
  std::string why;   // the whole story: "cannot connect: Connection refused"
  bool tls = false;  // the TLS handshake failed (as opposed to TCP or HTTP)
  explicit operator bool() const noexcept { return !why.empty(); }
};

class TransportStream {
 public:
  using Handler = asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
  using Endpoints = asio::ip::tcp::resolver::results_type;

  virtual ~TransportStream() = default;

  // TCP connect to the first endpoint that answers, then the transport's own
  // handshakes (TLS, HTTP upgrade).
  virtual asio::awaitable<OpenError> open(const Endpoints& endpoints) = 0;
  virtual void read_some(asio::mutable_buffer buffer, Handler handler) = 0;
  // Writes all of `buffer` (on a WebSocket: as one binary message).
  virtual void write(asio::const_buffer buffer, Handler handler) = 0;
  // Ends the connection at once by closing the TCP socket; pending operations fail.
  // No TLS close_notify or WebSocket Close frame: MQTT's DISCONNECT has already said
  // goodbye, and a dead peer must not be waited for.
  virtual void close() = 0;

  // Completion-token front ends, so coroutines can co_await the virtual operations.
  template <class Token>
  auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer b) { read_some(b, std::move(handler)); }, token,
        buffer);
  }
  template <class Token>
  auto async_write(asio::const_buffer buffer, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, asio::const_buffer b) { write(b, std::move(handler)); }, token,
        buffer);
  }
};

// The TLS settings every mqtts:// and wss:// connection of a client shares; built
// once, so a missing CA file or key is reported by start(), not at each attempt.
Expected<std::shared_ptr<asio::ssl::context>, std::string> make_tls_context(
    const TlsOptions& options);

// A transport for `uri`; `tls` must be set for mqtts:// and wss://.
std::unique_ptr<TransportStream> make_transport(asio::io_context& io, const ServerUri& uri,
                                                const TlsOptions& options,
                                                const std::shared_ptr<asio::ssl::context>& tls);

// Shared by every transport: TCP connect with Nagle off (MQTT packets are small and
// already batched per loop turn).
asio::awaitable<OpenError> connect_tcp(asio::ip::tcp::socket& socket,
                                       const TransportStream::Endpoints& endpoints);

std::unique_ptr<TransportStream> make_tcp_transport(asio::io_context& io);
std::unique_ptr<TransportStream> make_tls_transport(asio::io_context& io, const ServerUri& uri,
                                                    const TlsOptions& options,
                                                    std::shared_ptr<asio::ssl::context> tls);
std::unique_ptr<TransportStream> make_websocket_transport(asio::io_context& io,
                                                          const ServerUri& uri,
                                                          const TlsOptions& options,
                                                          std::shared_ptr<asio::ssl::context> tls);

}  // namespace cicada::client
