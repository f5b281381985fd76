// FailureBrake: per source address, a ban after repeated failed authentications.
//
// node.auth_failure_delay slows each connection's guesses; a guesser that opens many
// connections from one address is stopped here instead: after `limit` failures within
// `window`, the address is banned for `ban`, and its clients are refused 0x8A Banned
// (3.1.1: return code 5) without asking any authenticator, so their guesses cost no
// password hash and never queue ahead of other clients' checks on the hash pool.
//
// Bounded: at most `max_addresses` addresses are tracked. When the table is full, entries
// whose window and ban have passed are dropped; if none has, a new address is not tracked
// (tracked() stays at the bound) and only the per-connection delay applies to it.
// Thread-safety: banned() and failed() from any worker concurrently. banned() takes no lock
// while no ban is in force, so clients pay one atomic load.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cicada::broker::auth {

struct FailureBrakeSettings {
  std::uint32_t limit = 0;  // failures within `window` that ban an address; 0 = never
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds ban{300'000};
  std::size_t max_addresses = 65'536;
};

class FailureBrake {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FailureBrake(FailureBrakeSettings settings) : settings_(settings) {}

  bool enabled() const noexcept { return settings_.limit != 0; }
  // True while `address` is banned.
  bool banned(std::string_view address, Clock::time_point now) const;
  // Counts a failed authentication; true when it bans the address (the caller logs that).
  bool failed(std::string_view address, Clock::time_point now);
  std::size_t tracked() const;

 private:
  struct Entry {
    std::uint32_t failures = 0;
    Clock::time_point window_start;
    Clock::time_point banned_until;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  void make_room(Clock::time_point now);

  const FailureBrakeSettings settings_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
  // The end of the latest ban given, in Clock ticks: before it, banned() looks the
  // address up; after it, no ban is in force.
  std::atomic<Clock::rep> bans_end_{0};
};

}  // namespace cicada::broker::auth
