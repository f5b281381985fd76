#include "listener.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <stdexcept>

#include "connection.hpp"
#include "worker.hpp"

namespace cicada::broker {

namespace asio = boost::asio;
using asio::ip::tcp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

struct Listener::Acceptor {
  Worker& worker;
  tcp::acceptor acceptor;
};

Listener::Listener(const TcpListenerConfig& config, const std::vector<Worker*>& workers,
                   LayerFactory make_layer)
    : config_(config),
      make_layer_(std::move(make_layer)),
      info_(std::make_shared<ListenerInfo>(config.id(), config.peer_cert_as_username)) {
  boost::system::error_code error;
  auto address = asio::ip::make_address(config.host, error);
  if (error) throw std::runtime_error("listener " + info_->name + ": bad address " + config.host);
  endpoint_ = tcp::endpoint(address, config.port);
  for (Worker* worker : workers) {
    auto acceptor = std::make_unique<Acceptor>(Acceptor{*worker, tcp::acceptor(worker->io())});
    tcp::acceptor& a = acceptor->acceptor;
    a.open(endpoint_.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    a.set_option(ReusePort(true));
    a.bind(endpoint_, error);
    if (error) {
      throw std::runtime_error("listener " + info_->name + ": cannot bind " + config.host + ":" +
                               std::to_string(endpoint_.port()) + ": " + error.message());
    }
    a.listen(asio::socket_base::max_listen_connections);
    // Port 0: the first acceptor got an ephemeral port; the others share it.
    endpoint_ = a.local_endpoint();
    acceptors_.push_back(std::move(acceptor));
  }
}

Listener::~Listener() = default;

void Listener::start() {
  for (auto& acceptor : acceptors_)
    accept(*acceptor);
}

void Listener::stop() {
  for (auto& acceptor : acceptors_) {
    asio::post(acceptor->worker.io(), [a = acceptor.get()] {
      boost::system::error_code ignored;
      a->acceptor.close(ignored);
    });
  }
}

void Listener::accept(Acceptor& acceptor) {
  acceptor.acceptor.async_accept(
      acceptor.worker.io(),
      [this, &acceptor](const boost::system::error_code& error, tcp::socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (!error) {
          if (info_->connections.load(std::memory_order_relaxed) >= config_.max_connections) {
            // Over listeners.KIND.NAME.max_connections: refused before any MQTT (or TLS).
            spdlog::warn("listener {}: max_connections ({}) reached, connection refused",
                         info_->name, config_.max_connections);
          } else {
            auto connection = std::make_shared<Connection>(
                acceptor.worker, std::move(socket), info_, make_layer_ ? make_layer_() : nullptr);
            acceptor.worker.adopt(connection);
            connection->start();
          }
        } else if (error == asio::error::no_descriptors) {
          spdlog::warn("listener {}: out of file descriptors", info_->name);
        }
        accept(acceptor);
      });
}

}  // namespace cicada::broker
