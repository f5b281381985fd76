#include "broker.hpp"

#include <spdlog/spdlog.h>

#include <thread>

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
}

Broker::~Broker() {
  stop();
  wait();
}

void Broker::start() {
  std::vector<Worker*> peers;
  for (auto& worker : workers_)
    peers.push_back(worker.get());
  for (const TcpListenerConfig& listener : config_.tcp_listeners) {
    if (!listener.enabled) continue;
    listeners_.push_back(std::make_unique<Listener>(listener, peers));
  }
  for (auto& listener : listeners_) {
    auto endpoint = listener->endpoint();
    spdlog::info("listening on tcp {}:{} (listener {}, {} workers)", endpoint.address().to_string(),
                 endpoint.port(), listener->name(), workers_.size());
    listener->start();
  }
  if (!listeners_.empty() && auth_->allows_everything()) {
    std::string names;
    for (auto& listener : listeners_) {
      if (!names.empty()) names += ", ";
      auto endpoint = listener->endpoint();
      names += listener->name() + " (" + endpoint.address().to_string() + ":" +
               std::to_string(endpoint.port()) + ")";
    }
    spdlog::warn("anonymous access is on: any client may connect to {}", names);
  }
  for (auto& worker : workers_)
    worker->start();
}

void Broker::stop() {
  for (auto& listener : listeners_)
    listener->stop();
  for (auto& worker : workers_)
    worker->shutdown();
}

void Broker::wait() {
  for (auto& worker : workers_)
    worker->join();
}

}  // namespace cicada::broker
