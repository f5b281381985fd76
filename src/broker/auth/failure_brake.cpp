#include "broker/auth/failure_brake.hpp"

namespace cicada::broker::auth {

bool FailureBrake::banned(std::string_view address, Clock::time_point now) const {
  if (!enabled() || now.time_since_epoch().count() >= bans_end_.load(std::memory_order_acquire)) {
    return false;
  }
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(address);
  return it != entries_.end() && now < it->second.banned_until;
}

bool FailureBrake::failed(std::string_view address, Clock::time_point now) {
  if (!enabled()) return false;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    if (entries_.size() >= settings_.max_addresses) make_room(now);
    if (entries_.size() >= settings_.max_addresses) return false;
    it = entries_.emplace(std::string(address), Entry{.window_start = now}).first;
  }
  Entry& entry = it->second;
  if (now < entry.banned_until) return false;  // failures while banned do not extend it
  if (now - entry.window_start >= settings_.window) {
    entry.failures = 0;
    entry.window_start = now;
  }
  if (++entry.failures < settings_.limit) return false;
  entry.failures = 0;
  entry.window_start = now;
  entry.banned_until = now + settings_.ban;
  const Clock::rep end = entry.banned_until.time_since_epoch().count();
  Clock::rep latest = bans_end_.load(std::memory_order_relaxed);
  while (latest < end && !bans_end_.compare_exchange_weak(latest, end, std::memory_order_release)) {
  }
  return true;
}

void FailureBrake::make_room(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) {
    const Entry& e = item.second;
    return now >= e.banned_until && now - e.window_start >= settings_.window;
  });
}

std::size_t FailureBrake::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace cicada::broker::auth
