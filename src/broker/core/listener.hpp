// Listener: one configured listener of any kind (tcp, ssl; ws and wss later), as one
// acceptor per worker bound to the same address with SO_REUSEPORT, so the kernel
// spreads new connections over the workers (DESIGN.md). Each accepted connection lives
// on the worker that accepted it. A kind other than tcp differs only by the layer
// (net::StreamLayer) its factory makes for each connection.
// Thread-safety: constructed and started on the main thread; each acceptor then runs
// on its worker; the connection count is atomic.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../config/config.hpp"
#include "listener_info.hpp"
#include "net/stream_layer.hpp"

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

  TcpListenerConfig config_;
  LayerFactory make_layer_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::shared_ptr<ListenerInfo> info_;  // shared with its connections
};

}  // namespace cicada::broker
