// ws:// and wss:// — MQTT over a WebSocket (Boost.Beast), plain or over TLS
// (MQTT 5.0 section 6, MQTT 3.1.1 section 6).
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <type_traits>

#include "tls_session.hpp"
#include "transport.hpp"

namespace cicada::client {

namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using TlsSocket = asio::ssl::stream<asio::ip::tcp::socket>;

template <class NextLayer>
class WebSocketTransport final : public TransportStream {
  static constexpr bool secure = std::is_same_v<NextLayer, TlsSocket>;

 public:
  template <class... Args>
  WebSocketTransport(const ServerUri& uri, const TlsOptions& options,
                     std::shared_ptr<asio::ssl::context> tls, Args&&... args)
      : tls_(std::move(tls)),
        ws_(std::forward<Args>(args)...),
        host_(uri.host),
        port_(uri.port),
        path_(uri.path.empty() ? "/mqtt" : uri.path),
        insecure_(options.insecure) {}

  asio::awaitable<OpenError> open(const Endpoints& endpoints) override {
    if (auto failed = co_await connect_tcp(beast::get_lowest_layer(ws_), endpoints))
      co_return failed;
    if constexpr (secure) {
      if (auto failed = co_await tls_handshake(ws_.next_layer(), host_, insecure_))
        co_return failed;
    }
    // [MQTT-6.0.0-3] offer the "mqtt" subprotocol; [MQTT-6.0.0-1] binary frames only.
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(beast::http::field::sec_websocket_protocol, "mqtt");
      request.set(beast::http::field::user_agent, "libcicada");
    }));
    ws_.binary(true);
    ws_.auto_fragment(false);  // one MQTT write, one frame
    // The MQTT parser bounds packet sizes (ClientOptions::maximum_packet_size); a
    // WebSocket message may carry many packets, so Beast's own limit is lifted.
    ws_.read_message_max(0);
    const std::string authority =
        (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" +
        std::to_string(port_);
    websocket::response_type response;
    boost::system::error_code ec;
    co_await ws_.async_handshake(response, authority, path_,
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return OpenError{ec, "WebSocket upgrade of " + path_ + " failed: " + ec.message()};
    // [MQTT-6.0.0-4] the server must have chosen "mqtt".
    if (response[beast::http::field::sec_websocket_protocol] != "mqtt")
      co_return OpenError{make_error_code(asio::error::connection_refused),
                          "the server did not accept the WebSocket subprotocol \"mqtt\""};
    co_return OpenError{};
  }

  void read_some(asio::mutable_buffer buffer, Handler handler) override {
    // [MQTT-6.0.0-2] packets need not align with frames: the parser sees a byte stream.
    ws_.async_read_some(
        buffer, [h = std::move(handler)](boost::system::error_code ec, std::size_t n) mutable {
          if (ec == websocket::error::closed) ec = asio::error::eof;  // a Close frame
          std::move(h)(ec, n);
        });
  }
  void write(asio::const_buffer buffer, Handler handler) override {
    // Wrapped: Beast 1.81's composed operations cannot post through the type-erased
    // executor an any_completion_handler carries; a plain lambda uses the stream's.
    ws_.async_write(buffer,
                    [h = std::move(handler)](boost::system::error_code ec, std::size_t n) mutable {
                      std::move(h)(ec, n);
                    });
  }
  void close() override {
    boost::system::error_code ignored;
    auto& socket = beast::get_lowest_layer(ws_);
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

 private:
  std::shared_ptr<asio::ssl::context> tls_;  // wss://: outlives the stream that uses it
  websocket::stream<NextLayer> ws_;
  std::string host_;
  std::uint16_t port_;
  std::string path_;
  bool insecure_;
};

}  // namespace

std::unique_ptr<TransportStream> make_websocket_transport(asio::io_context& io,
                                                          const ServerUri& uri,
                                                          const TlsOptions& options,
                                                          std::shared_ptr<asio::ssl::context> tls) {
  if (uri.transport == Transport::websocket_tls) {
    auto& context = *tls;
    return std::make_unique<WebSocketTransport<TlsSocket>>(uri, options, std::move(tls), io,
                                                           context);
  }
  return std::make_unique<WebSocketTransport<asio::ip::tcp::socket>>(uri, options, nullptr, io);
}

}  // namespace cicada::client
