#include "broker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "listener_websocket.hpp"
#include "overload_counters.hpp"

namespace cicada::broker {

Broker::Broker(Config config, std::unique_ptr<AuthHooks> auth)
    : config_(std::move(config)), auth_(auth ? std::move(auth) : std::make_unique<AllowAll>()) {
  std::uint32_t count = config_.worker_threads;
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  router_ = std::make_unique<Router>(config_, count,
                                     [this](std::uint32_t worker, std::vector<Delivery>&& batch) {
                                       workers_[worker]->dispatch(std::move(batch));
                                     });
  for (std::uint32_t i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, config_, *router_, *auth_));
  }
  std::vector<Worker*> peers;
  for (auto& worker : workers_)
    peers.push_back(worker.get());
  for (auto& worker : workers_)
    worker->set_peers(peers);
  if (config_.sys_msg_interval > 0) {
    sys_ = std::make_unique<SysPublisher>(peers, *router_,
                                          std::chrono::seconds(config_.sys_msg_interval));
  }
}

Broker::~Broker() {
  stop();
  wait();
  // The hooks' own threads (the password hash pool, HTTP) may still be answering a
  // CONNECT; they post to the workers, so they are stopped while the workers exist.
  auth_.reset();
}

void Broker::start() {
  std::vector<Worker*> peers;
  for (auto& worker : workers_)
    peers.push_back(worker.get());
  for (const TcpListenerConfig& listener : config_.tcp_listeners) {
    if (!listener.enabled) continue;
    Listener::LayerFactory make_layer;
    std::shared_ptr<ListenerTls> tls;
    if (uses_tls(listener.kind)) {
      tls = std::make_shared<ListenerTls>(listener);  // throws naming the file
      tls_.push_back(tls);
      make_layer = [tls] { return tls->make_layer(); };
    }
    if (uses_websocket(listener.kind)) {
      make_layer = websocket_layer_factory(listener, config_.max_packet_size, tls);
    }
    listeners_.push_back(std::make_unique<Listener>(listener, peers, std::move(make_layer)));
  }
  for (auto& listener : listeners_) {
    auto endpoint = listener->endpoint();
    spdlog::info("listening on {} {}:{} (listener {}, {} workers)",
                 listener_kind_name(listener->config().kind), endpoint.address().to_string(),
                 endpoint.port(), listener->name(), workers_.size());
    listener->start();
  }
  // Name every listener that lets clients in without credentials.
  {
    std::string names;
    for (auto& listener : listeners_) {
      const bool anonymous = listener->config().allow_anonymous;
      if (!auth_->allows_everything() && !anonymous) continue;
      if (!names.empty()) names += ", ";
      auto endpoint = listener->endpoint();
      names += listener->config().id() + " (" + endpoint.address().to_string() + ":" +
               std::to_string(endpoint.port()) + ")";
    }
    if (names.empty()) {
      // Every listener asks for credentials.
    } else if (auth_->allows_everything()) {
      spdlog::warn("anonymous access is on: any client may connect to {}", names);
    } else {
      spdlog::warn(
          "anonymous access is on (allow_anonymous): clients without a user name may "
          "connect to {}",
          names);
    }
  }
  for (auto& worker : workers_)
    worker->start();
  if (sys_) sys_->start();
}

void Broker::stop() {
  for (auto& listener : listeners_)
    listener->stop();
  for (auto& worker : workers_)
    worker->shutdown();
}

std::vector<std::string> Broker::reload_tls() {
  std::vector<std::string> errors;
  for (auto& tls : tls_) {
    if (auto reloaded = tls->reload(); !reloaded) {
      errors.push_back(reloaded.error());
    } else {
      spdlog::info("reload: listener {}: certificate, key and CA files reread", tls->id());
    }
  }
  return errors;
}

void Broker::wait() {
  for (auto& worker : workers_)
    worker->join();
  if (!counters_logged_) log_overload_counters();  // wait() runs again in ~Broker
  counters_logged_ = true;
}

void Broker::log_overload_counters() const {
  // One line with every overload counter that moved, summed over the workers, so an
  // operator (and the integration tests) can see what the limits did.
  std::string line;
  for (const auto& [name, member] : overload_counters) {
    const std::uint64_t total = sum(workers_, member);
    if (total == 0) continue;
    if (!line.empty()) line += ", ";
    line += std::string(name) + "=" + std::to_string(total);
  }
  if (!line.empty()) spdlog::info("overload counters: {}", line);
}

}  // namespace cicada::broker
