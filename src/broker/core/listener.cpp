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
  boost::asio::steady_timer resume{worker.io()};  // max_conn_rate: when to accept again
  // Refusals are logged at most once a second per acceptor, with how many there were:
  // a flood of connections must not become a flood of log lines.
  TimePoint last_warning{};
  std::uint64_t unlogged = 0;
};

namespace {
void warn_throttled(TimePoint& last, std::uint64_t& unlogged, const std::string& listener,
                    std::string_view why) {
  const TimePoint now = Clock::now();
  ++unlogged;
  if (last != TimePoint{} && now - last < std::chrono::seconds(1)) return;
  spdlog::warn("listener {}: {}: {} connection(s) refused in the last second", listener, why,
               unlogged);
  last = now;
  unlogged = 0;
}
}  // namespace

Listener::Listener(const TcpListenerConfig& config, const std::vector<Worker*>& workers,
                   LayerFactory make_layer)
    : config_(config),
      make_layer_(std::move(make_layer)),
      info_(std::make_shared<ListenerInfo>(config.id(), config.peer_cert_as_username)),
      workers_(workers) {
  // Burst: one second's worth, so the limit is the rate a client would measure.
  if (config.max_conn_rate > 0) rate_.emplace(config.max_conn_rate, config.max_conn_rate);
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
      a->resume.cancel();
    });
  }
}

bool Listener::rate_limited(Acceptor& acceptor) {
  if (!rate_) return false;
  TimePoint resume_at;
  {
    std::lock_guard lock(rate_mutex_);
    const TimePoint now = Clock::now();
    if (rate_->ready(now)) {
      rate_->take(1, now);
      return false;
    }
    resume_at = rate_->ready_at();
  }
  // Over max_conn_rate: stop accepting until the bucket has a token again. New clients
  // wait in the kernel's listen backlog meanwhile, where they cost no descriptor, no
  // memory of ours and no CPU; closing them instead would make them reconnect at once
  // and cost an accept and a close each. Clients already connected are not affected.
  acceptor.worker.stats().accept_rate_pauses.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("listener {}: max_conn_rate ({}/s) reached, accepting paused", info_->name,
                config_.max_conn_rate);
  acceptor.resume.expires_at(resume_at);
  acceptor.resume.async_wait([this, &acceptor](const boost::system::error_code& error) {
    if (error == asio::error::operation_aborted || !acceptor.acceptor.is_open()) return;
    accept(acceptor);
  });
  return true;
}

bool Listener::over_limit(Acceptor& acceptor) {
  // A slot is reserved while deciding (the caller releases it once the connection holds
  // its own count), so two workers accepting at once cannot both take the last one.
  if (info_->connections.fetch_add(1, std::memory_order_relaxed) >= config_.max_connections) {
    info_->connections.fetch_sub(1, std::memory_order_relaxed);
    // Over listeners.KIND.NAME.max_connections: refused before any MQTT (or TLS), so a full
    // listener costs an accept and a close per attempt and nothing more.
    acceptor.worker.stats().refused_listener_max_connections.fetch_add(1,
                                                                       std::memory_order_relaxed);
    warn_throttled(acceptor.last_warning, acceptor.unlogged, info_->name,
                   "max_connections (" + std::to_string(config_.max_connections) + ") reached");
    return true;
  }
  const std::uint64_t node_limit = acceptor.worker.config().node_max_connections;
  if (node_limit == 0) return false;  // the slot stays reserved for the caller
  // The node's connections: what every worker accepted and has not closed yet. A few
  // relaxed loads per accept; the count may be off by the connections being accepted
  // on other workers at this very moment.
  std::int64_t open = 0;
  for (Worker* worker : workers_) {
    const WorkerStats& stats = worker->stats();
    // Closed first: read the other way round, a close in between could count negative.
    const auto closed = stats.connections_closed.load(std::memory_order_acquire);
    open += static_cast<std::int64_t>(stats.connections_accepted.load(std::memory_order_acquire) -
                                      closed);
  }
  if (open < static_cast<std::int64_t>(node_limit)) return false;
  info_->connections.fetch_sub(1, std::memory_order_relaxed);
  acceptor.worker.stats().refused_node_max_connections.fetch_add(1, std::memory_order_relaxed);
  warn_throttled(acceptor.last_warning, acceptor.unlogged, info_->name,
                 "node.max_connections (" + std::to_string(node_limit) + ") reached");
  return true;
}

void Listener::accept(Acceptor& acceptor) {
  if (rate_limited(acceptor)) return;
  acceptor.acceptor.async_accept(
      acceptor.worker.io(),
      [this, &acceptor](const boost::system::error_code& error, net::Socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (!error) {
          if (over_limit(acceptor)) {
            boost::system::error_code ignored;
            socket.close(ignored);
          } else {
            auto connection = std::make_shared<Connection>(
                acceptor.worker, std::move(socket), info_, make_layer_ ? make_layer_() : nullptr);
            info_->connections.fetch_sub(1, std::memory_order_relaxed);  // see over_limit()
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
