// mqtt:// — MQTT straight over TCP; also the TCP connect every other transport uses,
// and the choice of transport by URI scheme.
#include <boost/asio/connect.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "transport.hpp"

namespace cicada::client {

namespace {

class TcpTransport final : public TransportStream {
 public:
  explicit TcpTransport(asio::io_context& io) : socket_(io) {}

  asio::awaitable<OpenError> open(const Endpoints& endpoints) override {
    co_return co_await connect_tcp(socket_, endpoints);
  }
  void read_some(asio::mutable_buffer buffer, Handler handler) override {
    socket_.async_read_some(buffer, std::move(handler));
  }
  void write(asio::const_buffer buffer, Handler handler) override {
    asio::async_write(socket_, buffer, std::move(handler));
  }
  void close() override {
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  asio::ip::tcp::socket socket_;
};

}  // namespace

asio::awaitable<OpenError> connect_tcp(asio::ip::tcp::socket& socket,
                                       const TransportStream::Endpoints& endpoints) {
  boost::system::error_code ec;
  co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return OpenError{ec, "cannot connect: " + ec.message()};
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  co_return OpenError{};
}

std::unique_ptr<TransportStream> make_tcp_transport(asio::io_context& io) {
  return std::make_unique<TcpTransport>(io);
}

std::unique_ptr<TransportStream> make_transport(asio::io_context& io, const ServerUri& uri,
                                                const TlsOptions& options,
                                                const std::shared_ptr<asio::ssl::context>& tls) {
  switch (uri.transport) {
    case Transport::tcp:
      break;
    case Transport::tls:
      return make_tls_transport(io, uri, options, tls);
    case Transport::websocket:
    case Transport::websocket_tls:
      return make_websocket_transport(io, uri, options, tls);
  }
  return make_tcp_transport(io);
}

}  // namespace cicada::client
