// An asynchronous HTTP/1.1 client (Boost.Beast) for the HTTP authentication and authorization
// steps. It runs on its own thread with its own io_context (HttpThread), never on a broker
// worker: a worker hands a request over with send() and goes on; the answer comes back through
// the callback on the HTTP thread, and the broker posts it to the worker.
//
// Each HttpClient keeps a pool of at most `pool_size` keep-alive connections to one server.
// A request takes an idle connection, or opens a new one while fewer than pool_size are open,
// or else waits in a queue for the next free connection. A request that fails on a reused
// connection (the server closed it while it was idle) is tried once more on a new one,
// unless it timed out.
// Timeouts: connect_timeout for resolving, connecting and the TLS handshake (https),
// request_timeout for writing the request and reading the whole response.
// Thread-safety: HttpThread and send() may be used from any thread; everything else runs on
// the HTTP thread.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/auth/http_request.hpp"

namespace cicada::broker::auth {

class HttpThread {
 public:
  HttpThread();
  ~HttpThread();  // stops the loop; requests still in flight are dropped unanswered
  // (may run on the HTTP thread itself, from a callback)
  HttpThread(const HttpThread&) = delete;
  HttpThread& operator=(const HttpThread&) = delete;

  boost::asio::io_context& context() noexcept { return *context_; }

 private:
  // Shared with the thread: a pending request's callback may hold the last owner of this
  // object, and then the loop must outlive the destructor that runs inside it.
  std::shared_ptr<boost::asio::io_context> context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

struct HttpResponse {
  unsigned status = 0;  // 0: no response (connection error or timeout; see error)
  std::string body;
  std::string error;
  bool timed_out = false;
};

struct HttpClientSettings {
  std::string host;
  std::uint16_t port = 80;
  // https: the TLS context (http_tls.hpp), and the name sent as SNI and verified in the
  // service's certificate (the host when empty). Null: plain HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string server_name;
  std::size_t pool_size = 8;
  std::chrono::milliseconds connect_timeout{15'000};
  std::chrono::milliseconds request_timeout{5'000};
};

class HttpClient : public std::enable_shared_from_this<HttpClient> {
 public:
  // The thread must outlive the client's last request (HttpStep holds both).
  HttpClient(HttpThread& thread, HttpClientSettings settings);
  ~HttpClient();

  // Sends the request; `done` runs exactly once on the HTTP thread (unless the thread is
  // stopped first).
  void send(HttpRequestParts request, std::function<void(HttpResponse)> done);

 private:
  struct Connection;
  struct Pending {
    HttpRequestParts request;
    std::function<void(HttpResponse)> done;
  };
  class Exchange;

  void pump();
  void release(std::unique_ptr<Connection> connection);

  boost::asio::io_context& context_;
  const HttpClientSettings settings_;
  // HTTP thread only:
  std::deque<Pending> queue_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle plus busy connections
};

}  // namespace cicada::broker::auth
