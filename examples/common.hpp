// Shared by the MQTT 101 examples: flags/environment, signals and one-line logging.
// Thread-safety: log() may be called from any thread; the rest from main() only.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace example {

struct Settings {
  std::string url = "mqtt://127.0.0.1:1883";  // several, comma-separated, for failover
  std::string client_id;

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

// --url / --client-id, else CICADA_URL / CICADA_CLIENT_ID, else the defaults.
inline Settings settings(int argc, char** argv, std::string default_id) {
  Settings s;
  s.client_id = std::move(default_id);
  if (const char* v = std::getenv("CICADA_URL")) s.url = v;
  if (const char* v = std::getenv("CICADA_CLIENT_ID")) s.client_id = v;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--url") s.url = argv[i + 1];
    else if (flag == "--client-id") s.client_id = argv[i + 1];
  }
  return s;
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
