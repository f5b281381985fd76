// cicada-sub: subscribe and print messages, with mosquitto_sub's flags and exit codes
// (0 done, 1 error, 27 -W timed out). It reconnects and re-subscribes by default.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include <cicada/client/client.hpp>

#include "format.hpp"
#include "tool_options.hpp"

namespace {

using namespace cicada;

constexpr int exit_timed_out = 27;  // mosquitto_sub's -W exit code (MOSQ_ERR_TIMEOUT)

}  // namespace

int main(int argc, char** argv) {
  auto parsed = tools::parse_tool_options(tools::Tool::sub, argc, argv);
  if (parsed.options.help) {
    tools::print_help(tools::Tool::sub);
    return 0;
  }
  if (!parsed.error.empty()) {
    tools::print_usage_error(tools::Tool::sub, parsed.error, parsed.options.quiet);
    return 1;
  }
  const auto& o = parsed.options;

  // Signals are taken synchronously by the main thread: block them before the
  // client's threads start, so they inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::atomic<int> exit_code{-1};  // -1: keep running
  auto finish = [&](int code) {
    int running = -1;
    exit_code.compare_exchange_strong(running, code);
  };
  std::mutex output;
  std::uint64_t received = 0;  // guarded by output

  client::Client client(tools::client_options(o));
  bool subscribed_once = false;  // callback thread only
  auto subscribe = [&] {
    std::vector<client::SubscribeRequest> requests;
    for (const auto& t : o.topics)
      requests.push_back({.filter = t, .qos = o.qos});
    auto result = client.subscribe(std::move(requests), o.subscribe_properties).get();
    std::size_t denied = 0;
    for (auto code : result.reason_codes)
      if (codec::is_error(code)) ++denied;
    if (result.error.kind != client::ErrorKind::none &&
        result.error.kind != client::ErrorKind::rejected) {
      if (!o.quiet)
        std::fprintf(stderr, "Error: subscribe failed: %s\n", result.error.describe().c_str());
      finish(1);
    } else if (denied == result.reason_codes.size()) {
      if (!o.quiet) std::fprintf(stderr, "All subscription requests were denied.\n");
      finish(1);
    } else if (denied > 0 && !o.quiet) {
      std::fprintf(stderr, "Warning: some subscription requests were denied.\n");
    }
    if (o.debug) std::fprintf(stderr, "Subscribed to %zu topic(s)\n", o.topics.size() - denied);
  };
  client.on_connection_up([&](const client::ConnackInfo& connack) {
    if (o.debug)
      std::fprintf(stderr, "Connected to %s (session present %d)\n", connack.uri.c_str(),
                   connack.session_present ? 1 : 0);
    // Later connections get their subscriptions back from the broker's session or
    // from the library's restore.
    if (subscribed_once) return;
    subscribed_once = true;
    if (!o.topics.empty()) subscribe();
    // -U: after the subscriptions, as mosquitto_sub does (cleaning up a persistent
    // session's old filters).
    if (!o.unsubscribe_topics.empty()) {
      auto result = client.unsubscribe(o.unsubscribe_topics, o.unsubscribe_properties).get();
      if (result.error.kind != client::ErrorKind::none &&
          result.error.kind != client::ErrorKind::rejected) {
        if (!o.quiet)
          std::fprintf(stderr, "Error: unsubscribe failed: %s\n", result.error.describe().c_str());
        finish(1);
      } else if (o.debug) {
        std::fprintf(stderr, "Unsubscribed from %zu topic(s)\n", o.unsubscribe_topics.size());
      }
    }
  });
  client.on_connection_down([&](const client::Error& error) {
    if (!o.reconnect) {
      if (!o.quiet) std::fprintf(stderr, "Error: %s\n", error.describe().c_str());
      finish(1);
    } else if (o.debug) {
      std::fprintf(stderr, "Connection lost (%s); reconnecting\n", error.describe().c_str());
    }
  });
  client.on_reconnecting([&](std::uint32_t attempt, const std::string& uri) {
    if (o.debug) std::fprintf(stderr, "Reconnecting to %s (attempt %u)\n", uri.c_str(), attempt);
  });
  client.on_message([&](const client::ReceivedMessage& message) {
    if (o.no_retained && message.retain) return;  // -R: no stale retained messages
    std::lock_guard lock(output);
    if (exit_code.load() != -1) return;
    if (o.count && received >= *o.count) return;
    const std::string text =
        tools::format_message(message, o.format ? &*o.format : nullptr, o.verbose, o.no_newline);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    ++received;
    if (o.count && received >= *o.count) finish(0);
  });

  auto started = client.start().get();
  if (started.error) {
    if (!o.quiet) std::fprintf(stderr, "Error: %s\n", started.error.describe().c_str());
    return tools::connect_failure_exit_code(started.error, o.version);
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout.value_or(0));
  while (exit_code.load() == -1) {
    timespec tick{0, 100'000'000};
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) finish(0);
    if (o.timeout && std::chrono::steady_clock::now() >= deadline) {
      if (!o.quiet) std::fprintf(stderr, "Timed out\n");
      finish(exit_timed_out);
    }
  }
  client.disconnect(client::ReasonCode::success, o.disconnect_properties)
      .wait_for(std::chrono::seconds(5));
  return exit_code.load();
}
