// Broker: the whole server: N workers, the shared router, the listeners. main()
// builds one from a Config, starts it and stops it on SIGINT/SIGTERM.
// Thread-safety: start(), stop() and wait() from the thread that owns the Broker.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../auth/hooks.hpp"
#include "../config/config.hpp"
#include "listener.hpp"
#include "listener_tls.hpp"
#include "router.hpp"
#include "sys_publisher.hpp"
#include "worker.hpp"

namespace cicada::broker {

class Broker {
 public:
  // `auth` answers authentication and authorization; allow-all when null.
  explicit Broker(Config config, std::unique_ptr<AuthHooks> auth = nullptr);
  ~Broker();

  // Binds every listener (throws on failure) and starts the workers.
  void start();
  // Stops accepting, sends MQTT 5 clients DISCONNECT 0x8B, closes every connection
  // and stops the workers.
  void stop();
  void wait();
  // SIGHUP: every ssl listener rereads its certificate, key and CA files for the
  // connections accepted from now on; open connections keep theirs. Returns one error
  // per listener whose files did not load (that listener keeps its previous ones).
  std::vector<std::string> reload_tls();

  const Config& config() const noexcept { return config_; }
  const std::vector<std::unique_ptr<Listener>>& listeners() const noexcept { return listeners_; }
  Router& router() noexcept { return *router_; }

 private:
  void log_overload_counters() const;

  Config config_;
  std::unique_ptr<AuthHooks> auth_;
  std::unique_ptr<Router> router_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::shared_ptr<ListenerTls>> tls_;  // one per ssl and wss listener
  std::unique_ptr<SysPublisher> sys_;              // null when sys_msg_interval is 0
  bool counters_logged_ = false;
};

}  // namespace cicada::broker
