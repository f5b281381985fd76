// Listener: one configured TCP listener, as one acceptor per worker bound to the same
// address with SO_REUSEPORT, so the kernel spreads new connections over the workers
// (DESIGN.md). Each accepted connection lives on the worker that accepted it.
// Thread-safety: constructed and started on the main thread; each acceptor then runs
// on its worker; the connection count is atomic.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "../config/config.hpp"
#include "listener_info.hpp"

namespace cicada::broker {

class Worker;

class Listener {
 public:
  // Binds and listens on every worker; throws std::runtime_error naming the address
  // when it cannot (start-up errors are exceptions, STYLE.md 2).
  Listener(const TcpListenerConfig& config, const std::vector<Worker*>& workers);
  ~Listener();
  void start();
  void stop();
  boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  const std::string& name() const noexcept { return config_.name; }

 private:
  struct Acceptor;
  void accept(Acceptor& acceptor);

  TcpListenerConfig config_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::shared_ptr<ListenerInfo> info_;  // shared with its connections
};

}  // namespace cicada::broker
