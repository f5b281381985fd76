// AnswerCache: the HTTP service's answers, kept for a while so that a client that
// reconnects or publishes to the same topic again costs the service nothing (issue 5:
// "a node-level cache bounded by entries and bytes with a TTL"). Keyed by the rendered
// request (target and body), which holds every value the service could decide on, so
// two requests share an answer only when the service would have been asked the same
// thing. Least recently used entries go first when a bound is reached.
// Thread-safety: all members may be called from any thread at once (one mutex; the
// critical sections are a hash lookup and a list splice).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/auth/source.hpp"

namespace cicada::broker::auth {

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;

  AnswerCache(std::size_t max_entries, std::size_t max_bytes, std::chrono::milliseconds ttl)
      : max_entries_(max_entries), max_bytes_(max_bytes), ttl_(ttl) {}

  // A fresh answer for `key`, and it becomes the most recently used; nullopt otherwise
  // (an expired one is dropped).
  std::optional<AuthAnswer> find(std::string_view key, Clock::time_point now);
  // Replaces any answer for `key`. A key larger than max_bytes is not kept.
  void insert(std::string key, AuthAnswer answer, Clock::time_point now);

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    AuthAnswer answer;
    Clock::time_point expires;
    std::size_t bytes;
  };
  using List = std::list<Entry>;
  void erase(List::iterator it);  // mutex_ held

  const std::size_t max_entries_;
  const std::size_t max_bytes_;
  const std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_;
  List entries_;  // most recently used first; guarded by mutex_
  std::unordered_map<std::string_view, List::iterator> index_;  // views of entries_' keys
  std::size_t bytes_ = 0;                                       // guarded by mutex_
};

}  // namespace cicada::broker::auth
