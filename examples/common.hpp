// Shared by the MQTT 101 examples: flags/environment (and --help), signals and one-line
// logging.
// Thread-safety: log() may be called from any thread; the rest from main() only.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace example {

struct Settings {
  std::string url = "mqtt://127.0.0.1:1883";  // several, comma-separated, for failover
  std::string client_id;
  // 0: a clean session that ends with the connection. Above 0: clean start off and the
  // broker keeps the session (subscriptions, queued QoS 1/2 messages) for this many
  // seconds after a disconnect [MQTT-3.1.2-4], [MQTT-3.1.2-23].
  std::uint32_t session_expiry = 0;

  std::vector<std::string> servers() const {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= url.size()) {
      std::size_t comma = url.find(',', start);
      if (comma == std::string::npos) comma = url.size();
      if (comma > start) out.push_back(url.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }
};

inline void usage(std::FILE* to, const char* program, const char* about) {
  std::fprintf(to,
               "Usage: %s [--url URI[,URI...]] [--client-id ID] [--session-expiry SECONDS]\n"
               "%s\n"
               "  --url URI[,URI...]        broker(s), tried in turn; mqtt://, mqtts://, ws://, wss://\n"
               "                            (env CICADA_URL; default mqtt://127.0.0.1:1883)\n"
               "  --client-id ID            (env CICADA_CLIENT_ID)\n"
               "  --session-expiry SECONDS  0: clean session (default). Above 0: a persistent\n"
               "                            session the broker keeps that long after a disconnect,\n"
               "                            clean start off (env CICADA_SESSION_EXPIRY)\n",
               program, about);
}

// 0 .. 4294967295 (the Session Expiry Interval's range, a Four Byte Integer), or nullopt.
inline std::optional<std::uint32_t> parse_seconds(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 10) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > 0xFFFFFFFFu) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// --url / --client-id / --session-expiry, else CICADA_URL / CICADA_CLIENT_ID /
// CICADA_SESSION_EXPIRY, else the defaults. --help prints the usage and exits 0; a bad
// flag or value prints why and exits 2.
inline Settings settings(int argc, char** argv, std::string default_id, const char* about) {
  Settings s;
  s.client_id = std::move(default_id);
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "%s: %s\n", argv[0], why.c_str());
    usage(stderr, argv[0], about);
    std::exit(2);
  };
  auto seconds = [&](std::string_view where, const char* text) {
    auto v = parse_seconds(text);
    if (!v) fail(std::string(where) + " needs a number of seconds (0..4294967295), not '" + text + "'");
    return *v;
  };
  if (const char* v = std::getenv("CICADA_URL")) s.url = v;
  if (const char* v = std::getenv("CICADA_CLIENT_ID")) s.client_id = v;
  if (const char* v = std::getenv("CICADA_SESSION_EXPIRY")) s.session_expiry = seconds("CICADA_SESSION_EXPIRY", v);
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(stdout, argv[0], about);
      std::exit(0);
    }
    if (flag != "--url" && flag != "--client-id" && flag != "--session-expiry")
      fail("unknown option '" + std::string(flag) + "'");
    if (i + 1 >= argc) fail(std::string(flag) + " needs a value");
    const char* value = argv[++i];
    if (flag == "--url") s.url = value;
    else if (flag == "--client-id") s.client_id = value;
    else s.session_expiry = seconds(flag, value);
  }
  if (s.servers().empty()) fail("--url needs at least one URI");
  if (s.session_expiry > 0 && s.client_id.empty())
    fail("--session-expiry needs a client id: a session is found again by it");
  return s;
}

// The session part of the client options: persistent when session_expiry > 0.
// The Session Expiry Interval is MQTT 5's; with 3.1.1 clean start off alone keeps it.
template <class Options>
void apply_session(const Settings& s, Options& options) {
  if (s.session_expiry == 0) return;
  options.clean_start = false;
  options.session_expiry_interval = s.session_expiry;
}

template <class... Args>
void log(const char* format, Args... args) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
  std::printf("%s ", stamp);
  std::printf(format, args...);
  std::printf("\n");
  std::fflush(stdout);
}

// Blocks SIGINT/SIGTERM (before any thread starts, so all inherit the mask) and
// returns a waiter: true when a signal came, false after `timeout`.
class Signals {
 public:
  Signals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  bool wait_for(std::chrono::milliseconds timeout) {
    timespec ts{static_cast<time_t>(timeout.count() / 1000), static_cast<long>(timeout.count() % 1000) * 1'000'000};
    return sigtimedwait(&set_, nullptr, &ts) > 0;
  }

 private:
  sigset_t set_;
};

}  // namespace example
