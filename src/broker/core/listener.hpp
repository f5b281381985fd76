// Listener: one configured listener of any kind (tcp, ssl, ws, wss), as one
// acceptor per worker bound to the same address with SO_REUSEPORT, so the kernel
// spreads new connections over the workers (DESIGN.md). Each accepted connection lives
// on the worker that accepted it. A kind other than tcp differs only by the layer
// (net::StreamLayer) its factory makes for each connection.
// Overload limits: listeners.KIND.NAME.max_connections and node.max_connections close a
// connection over them as soon as it is accepted; max_conn_rate pauses accepting.
// Thread-safety: constructed and started on the main thread; each acceptor then runs
// on its worker; the connection count is atomic, the rate bucket under its mutex.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../config/config.hpp"
#include "listener_info.hpp"
#include "net/stream_layer.hpp"
#include "token_bucket.hpp"

namespace cicada::broker {

class Worker;

class Listener {
 public:
  // Makes the layer of one accepted connection; called on the accepting worker.
  using LayerFactory = std::function<std::unique_ptr<net::StreamLayer>()>;

  // Binds and listens on every worker; throws std::runtime_error naming the address
  // when it cannot (start-up errors are exceptions, STYLE.md 2). An empty
  // `make_layer` (tcp) gives connections no layer at all.
  Listener(const TcpListenerConfig& config, const std::vector<Worker*>& workers,
           LayerFactory make_layer = {});
  ~Listener();
  void start();
  void stop();
  boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  const std::string& name() const noexcept { return config_.name; }
  const TcpListenerConfig& config() const noexcept { return config_; }

 private:
  struct Acceptor;
  void accept(Acceptor& acceptor);
  // Over a connection limit: the socket is closed at once; true when it was.
  bool over_limit(Acceptor& acceptor);
  // Over max_conn_rate: accepting waits for the bucket (true), else a token is taken.
  bool rate_limited(Acceptor& acceptor);

  TcpListenerConfig config_;
  LayerFactory make_layer_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::shared_ptr<ListenerInfo> info_;  // shared with its connections
  std::vector<Worker*> workers_;        // every worker: node.max_connections counts them all
  std::mutex rate_mutex_;
  std::optional<TokenBucket> rate_;  // max_conn_rate, shared by the acceptors
};

}  // namespace cicada::broker
