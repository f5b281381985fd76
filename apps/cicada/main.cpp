// cicada: the MQTT broker. Reads its configuration (built-in defaults, an optional
// TOML file, CICADA_* environment variables, flags), starts, and runs until SIGINT or
// SIGTERM, when MQTT 5 clients get DISCONNECT 0x8B and it exits. SIGHUP rereads the
// password and ACL files and the ssl listeners' certificates (docs/security.md).
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#ifdef CICADA_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "broker/auth/from_config.hpp"
#include "broker/config/config.hpp"
#include "broker/core/broker.hpp"

extern char** environ;

namespace {

// Which malloc this build uses (cmake/allocator.cmake), for the start-up log.
std::string allocator_name() {
#ifdef CICADA_JEMALLOC
  const char* version = nullptr;
  std::size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr) {
    return std::string("jemalloc ") + version;
  }
  return "jemalloc";
#else
  return "the C library's malloc";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cicada::broker;
  Config config;
  std::unique_ptr<auth::AuthChain> chain;
  try {
    CommandLine cli = parse_command_line(argc, argv);
    if (cli.exit_now) return cli.exit_code;
    config = load_config(cli, environment_from(environ));
    if (cli.print_config) {
      std::fputs(print_config(config).c_str(), stdout);
      return 0;
    }
    chain = auth::chain_from_config(config);
  } catch (const ConfigError& error) {
    std::fprintf(stderr, "cicada: %s\n", error.what());
    return 2;
  }

  auto logger = spdlog::stderr_color_mt("cicada");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::debug("allocator: {}", allocator_name());

  // Signals are taken by this thread with sigwait; every worker thread inherits the
  // blocked mask, so none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  try {
    // The broker owns the chain; this thread keeps a pointer to reload it on SIGHUP.
    auth::AuthChain* hooks = chain.get();
    Broker broker(config, std::move(chain));
    broker.start();
    int received = 0;
    while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
      spdlog::info("SIGHUP received: rereading the password and ACL files");
      const auto errors = hooks->reload();
      for (const std::string& error : errors) {
        spdlog::error("reload: {}; the previous contents stay in use", error);
      }
      if (errors.empty()) spdlog::info("reload: done");
      // New TLS connections get the new certificates; open ones keep theirs.
      const auto tls_errors = broker.reload_tls();
      for (const std::string& error : tls_errors) {
        spdlog::error("reload: {}; the previous certificate and key stay in use", error);
      }
    }
    spdlog::info("{} received: shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
    broker.stop();
    broker.wait();
  } catch (const std::exception& error) {
    spdlog::critical("{}", error.what());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}
