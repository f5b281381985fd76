#include "broker/auth/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>
#include <variant>

namespace cicada::broker::auth {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

// A service answer larger than this is a failed request, not an allocation.
constexpr std::uint64_t kMaxResponseBody = 1 << 20;

HttpThread::HttpThread()
    : context_(std::make_shared<asio::io_context>(1)),
      work_(asio::make_work_guard(*context_)),
      thread_([context = context_] { context->run(); }) {}

HttpThread::~HttpThread() {
  work_.reset();
  context_->stop();
  if (thread_.get_id() == std::this_thread::get_id()) {
    // Called from a callback on the HTTP thread: run() returns when it is done, and the
    // thread's own reference then destroys the loop.
    thread_.detach();
  } else {
    thread_.join();
  }
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct HttpClient::Connection {
  using Stream = std::variant<beast::tcp_stream, TlsStream>;
  Connection(asio::io_context& context, asio::ssl::context* tls)
      : stream(tls != nullptr ? Stream(std::in_place_type<TlsStream>, context, *tls)
                              : Stream(std::in_place_type<beast::tcp_stream>, context)) {}
  // The TCP stream, under TLS or not: its timeouts and socket.
  beast::tcp_stream& tcp() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                      stream);
  }
  Stream stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(HttpThread& thread, HttpClientSettings settings)
    : context_(thread.context()), settings_(std::move(settings)) {}

HttpClient::~HttpClient() = default;

void HttpClient::send(HttpRequestParts request, std::function<void(HttpResponse)> done) {
  asio::post(context_, [self = shared_from_this(),
                        pending = Pending{std::move(request), std::move(done)}]() mutable {
    self->queue_.push_back(std::move(pending));
    self->pump();
  });
}

// One request from (re)connecting to the parsed response, with plain completion handlers.
class HttpClient::Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<HttpClient> client, std::unique_ptr<Connection> connection,
           Pending pending)
      : client_(std::move(client)),
        connection_(std::move(connection)),
        pending_(std::move(pending)),
        resolver_(client_->context_) {
    const HttpRequestParts& parts = pending_.request;
    const HttpClientSettings& settings = client_->settings_;
    request_ = {parts.method == HttpMethod::get ? http::verb::get : http::verb::post, parts.target,
                11};
    const std::uint16_t default_port = settings.tls ? 443 : 80;
    request_.set(http::field::host, settings.port == default_port
                                        ? settings.host
                                        : settings.host + ":" + std::to_string(settings.port));
    request_.set(http::field::user_agent, "cicada");
    for (const HttpHeader& header : parts.headers)
      request_.set(header.name, header.value);
    request_.keep_alive(true);
    if (parts.method == HttpMethod::post) request_.body() = parts.body;
    request_.prepare_payload();
  }

  void start() {
    reused_ = connection_->tcp().socket().is_open();
    if (reused_) return write();
    connection_->tcp().expires_after(client_->settings_.connect_timeout);
    resolver_.async_resolve(
        client_->settings_.host, std::to_string(client_->settings_.port),
        [self = shared_from_this()](error_code error,
                                    const asio::ip::tcp::resolver::results_type& endpoints) {
          if (error) return self->fail("resolve", error);
          self->connection_->tcp().async_connect(
              endpoints, [self](error_code connect_error, const asio::ip::tcp::endpoint&) {
                if (connect_error) return self->fail("connect", connect_error);
                self->handshake();
              });
        });
  }

 private:
  // https: SNI, the name to verify, and the handshake, within the connect timeout.
  void handshake() {
    auto* tls = std::get_if<TlsStream>(&connection_->stream);
    if (tls == nullptr) return write();
    const HttpClientSettings& settings = client_->settings_;
    const std::string& name = settings.server_name.empty() ? settings.host : settings.server_name;
    // SNI carries host names only (RFC 6066 3), never an address literal.
    error_code not_an_address;
    (void)asio::ip::make_address(name, not_an_address);
    if (not_an_address) {
      // SSL_set_tlsext_host_name, without the macro's C cast.
      SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()));
    }
    tls->set_verify_callback(asio::ssl::host_name_verification(name));
    tls->async_handshake(asio::ssl::stream_base::client,
                         [self = shared_from_this()](error_code error) {
                           if (error) return self->fail("TLS handshake", error);
                           self->write();
                         });
  }

  void write() {
    connection_->tcp().expires_after(client_->settings_.request_timeout);
    std::visit(
        [this](auto& stream) {
          http::async_write(stream, request_,
                            [self = shared_from_this()](error_code error, std::size_t) {
                              if (error) return self->fail("write", error);
                              self->read();
                            });
        },
        connection_->stream);
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxResponseBody);
    std::visit(
        [this](auto& stream) {
          http::async_read(stream, connection_->buffer, *parser_,
                           [self = shared_from_this()](error_code error, std::size_t) {
                             if (error) return self->fail("read", error);
                             self->done();
                           });
        },
        connection_->stream);
  }

  void done() {
    connection_->tcp().expires_never();
    auto response = parser_->release();
    if (!response.keep_alive()) close();
    finish(HttpResponse{.status = response.result_int(), .body = std::move(response.body())});
  }

  void fail(std::string_view what, error_code error) {
    close();
    const bool timed_out = error == beast::error::timeout;
    if (reused_ && !timed_out) {
      // The server may have closed the idle connection: once more on a fresh one.
      reused_ = false;
      return start();
    }
    finish(
        HttpResponse{.error = std::string(what) + ": " + error.message(), .timed_out = timed_out});
  }

  void close() {
    beast::error_code ignored;
    connection_->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    connection_->tcp().socket().close(ignored);
    connection_->buffer.clear();
    // A TLS stream's session cannot be reused on a new socket: start it afresh.
    if (std::holds_alternative<TlsStream>(connection_->stream)) {
      connection_ = std::make_unique<Connection>(client_->context_, client_->settings_.tls.get());
    }
  }

  void finish(HttpResponse response) {
    client_->release(std::move(connection_));
    auto done = std::move(pending_.done);
    done(std::move(response));
    client_->pump();
  }

  std::shared_ptr<HttpClient> client_;
  std::unique_ptr<Connection> connection_;
  Pending pending_;
  asio::ip::tcp::resolver resolver_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool reused_ = false;
};

void HttpClient::pump() {
  while (!queue_.empty()) {
    std::unique_ptr<Connection> connection;
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
    } else if (open_ < settings_.pool_size) {
      connection = std::make_unique<Connection>(context_, settings_.tls.get());
      ++open_;
    } else {
      return;  // every connection is busy; the next one freed takes the queue's head
    }
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    std::make_shared<Exchange>(shared_from_this(), std::move(connection), std::move(pending))
        ->start();
  }
}

void HttpClient::release(std::unique_ptr<Connection> connection) {
  if (connection->tcp().socket().is_open()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
}

}  // namespace cicada::broker::auth
