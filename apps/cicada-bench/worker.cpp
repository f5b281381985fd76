#include "worker.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "clock.hpp"

namespace cicada::bench {
namespace {

constexpr std::uint64_t timer_id = UINT64_MAX;
constexpr std::uint64_t tick_ns = 1'000'000;  // 1 ms: the granularity of pacing and rates
constexpr int max_events = 512;

}  // namespace

Worker::Worker(const ClientSettings& settings, const Pacing& pacing, Control& control,
               ErrorLog& errors, std::vector<ClientSpec> specs)
    : settings_(settings), pacing_(pacing), control_(control) {
  connections_.reserve(specs.size());
  for (ClientSpec& spec : specs) {
    if (spec.role == Role::pub) ++own_publishers_;
    connections_.push_back(
        std::make_unique<Connection>(settings_, std::move(spec), metrics_, errors));
  }
  slots_.resize(connections_.size());
  pending_.resize(connections_.size());
  for (std::uint32_t i = 0; i < pending_.size(); ++i)
    pending_[i] = i;
  std::stable_sort(pending_.begin(), pending_.end(), [&](std::uint32_t a, std::uint32_t b) {
    const ClientSpec& x = connections_[a]->spec();
    const ClientSpec& y = connections_[b]->spec();
    return x.group != y.group ? x.group < y.group : x.ordinal < y.ordinal;
  });
  // Reserved once: the loop's lists never allocate while running.
  active_.reserve(connections_.size());
  dirty_.reserve(connections_.size());
  flushing_.reserve(connections_.size());

  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0) {
    throw std::runtime_error(std::string("epoll/timerfd: ") + std::strerror(errno));
  }
  itimerspec period{};
  period.it_interval.tv_nsec = static_cast<long>(tick_ns);
  period.it_value.tv_nsec = static_cast<long>(tick_ns);
  ::timerfd_settime(timer_fd_, 0, &period, nullptr);
  epoll_event event{.events = EPOLLIN, .data = {.u64 = timer_id}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &event);
}

Worker::~Worker() {
  join();
  connections_.clear();
  if (timer_fd_ >= 0) ::close(timer_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  epoll_event events[max_events];
  last_tick_ns_ = monotonic_ns();
  next_second_ns_ = last_tick_ns_ + 1'000'000'000u;
  while (!(disconnecting_ && closed_ == connections_.size())) {
    // With publishers free to go and no rate to wait for, do not sleep: the next turn
    // publishes again.
    const bool busy =
        !active_.empty() && pacing_.total_rate == 0 && pacing_.publish_interval_ns == 0;
    const int n = ::epoll_wait(epoll_fd_, events, max_events, busy ? 0 : -1);
    if (n < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    }
    std::uint64_t now = monotonic_ns();
    bool ticked = false;
    for (int i = 0; i < n; ++i) {
      const epoll_event& event = events[i];
      if (event.data.u64 == timer_id) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto _ = ::read(timer_fd_, &expirations, sizeof expirations);
        ticked = true;
        continue;
      }
      const auto id = static_cast<std::uint32_t>(event.data.u64);
      Connection& connection = *connections_[id];
      if (event.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) connection.on_writable(now);
      if (event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) connection.on_readable();
      sync(id);
    }
    if (ticked) on_tick(monotonic_ns());
    publish_round();
    now = monotonic_ns();
    flush_dirty(now);
  }
}

void Worker::on_tick(std::uint64_t now) {
  if (!disconnecting_ && control_.disconnect.load(std::memory_order_acquire)) {
    disconnect_all(now);
  }
  if (publishing_enabled_ && control_.stop_publishing.load(std::memory_order_acquire)) {
    stop_publishing();
  }
  if (!disconnecting_) start_due(now);

  // The token bucket: the rate this worker owes, accrued since the last tick. Capped at
  // 100 ms worth, so publishers that were blocked do not release a burst afterwards.
  double rate = 0;
  if (pacing_.total_rate > 0 && pacing_.total_publishers > 0) {
    rate = pacing_.total_rate * own_publishers_ / pacing_.total_publishers;
  } else if (pacing_.publish_interval_ns > 0) {
    rate =
        static_cast<double>(publishing_) * 1e9 / static_cast<double>(pacing_.publish_interval_ns);
  }
  if (rate > 0) {
    tokens_ += rate * static_cast<double>(now - last_tick_ns_) / 1e9;
    tokens_ = std::min(tokens_, std::max(1.0, rate / 10));
  }
  last_tick_ns_ = now;

  if (now >= next_second_ns_) {
    next_second_ns_ = now + 1'000'000'000u;
    for (std::uint32_t id = 0; id < connections_.size(); ++id) {
      if (slots_[id].closed) continue;
      connections_[id]->on_second(now);
      sync(id);
    }
  }
}

void Worker::start_due(std::uint64_t now) {
  const unsigned released = control_.released_groups.load(std::memory_order_acquire);
  while (next_pending_ < pending_.size()) {
    const std::uint32_t id = pending_[next_pending_];
    Connection& connection = *connections_[id];
    const ClientSpec& spec = connection.spec();
    if (spec.group >= released) break;
    const std::uint64_t due = control_.release_ns[spec.group].load(std::memory_order_relaxed) +
                              spec.ordinal * pacing_.connect_interval_ns;
    if (now < due) break;
    ++next_pending_;
    if (connection.start(now)) {
      epoll_event event{.events = EPOLLIN | EPOLLOUT, .data = {.u64 = id}};
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, connection.fd(), &event);
      slots_[id].out_registered = true;
    }
    sync(id);
  }
}

void Worker::publish_round() {
  if (active_.empty()) return;
  if (pacing_.total_rate == 0 && pacing_.publish_interval_ns == 0) {
    // Unlimited: every publisher that can fills its batch. Walking backwards keeps the
    // walk valid while sync() swap-removes the current entry.
    for (std::size_t i = active_.size(); i-- > 0;) {
      const std::uint32_t id = active_[i];
      connections_[id]->publish(UINT32_MAX, pacing_.batch_bytes);
      sync(id);
    }
    return;
  }
  // Rate-limited: spend whole tokens one message at a time, round-robin, so every
  // publisher gets its share whatever the rate.
  // A publisher whose output already holds a full batch takes nothing this turn; a
  // whole lap of those ends the round.
  std::size_t idle = 0;
  while (tokens_ >= 1 && !active_.empty() && idle < active_.size()) {
    if (cursor_ >= active_.size()) cursor_ = 0;
    const std::uint32_t id = active_[cursor_];
    const std::uint32_t sent = connections_[id]->publish(1, pacing_.batch_bytes);
    tokens_ -= sent;
    idle = sent == 0 ? idle + 1 : 0;
    sync(id);
    ++cursor_;
  }
}

void Worker::flush_dirty(std::uint64_t now) {
  flushing_.swap(dirty_);
  for (const std::uint32_t id : flushing_) {
    slots_[id].dirty = false;
    connections_[id]->flush(now);
    sync(id);
  }
  flushing_.clear();
}

void Worker::disconnect_all(std::uint64_t now) {
  disconnecting_ = true;
  stop_publishing();
  next_pending_ = pending_.size();
  for (std::uint32_t id = 0; id < connections_.size(); ++id) {
    connections_[id]->disconnect(now);
    sync(id);
  }
}

void Worker::stop_publishing() {
  publishing_enabled_ = false;
  for (const std::uint32_t id : active_)
    slots_[id].active_at = Slot::none;
  active_.clear();
}

void Worker::sync(std::uint32_t id) {
  Connection& connection = *connections_[id];
  Slot& slot = slots_[id];
  if (connection.fd() >= 0 && connection.wants_writable() != slot.out_registered) {
    slot.out_registered = !slot.out_registered;
    epoll_event event{.events = EPOLLIN | (slot.out_registered ? EPOLLOUT : 0u),
                      .data = {.u64 = id}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd(), &event);
  }
  if (connection.wants_flush() && !slot.dirty) {
    slot.dirty = true;
    dirty_.push_back(id);
  }
  set_active(id, publishing_enabled_ && connection.can_publish());
  if (connection.publishing() != slot.publishing) {
    slot.publishing = !slot.publishing;
    publishing_ += slot.publishing ? 1 : static_cast<std::size_t>(-1);
  }
  if (connection.closed() && !slot.closed) {
    slot.closed = true;
    ++closed_;
  }
}

void Worker::set_active(std::uint32_t id, bool active) {
  Slot& slot = slots_[id];
  if (active == (slot.active_at != Slot::none)) return;
  if (active) {
    slot.active_at = static_cast<std::uint32_t>(active_.size());
    active_.push_back(id);
    return;
  }
  // Swap-remove: O(1), order does not matter to the round-robin.
  const std::uint32_t last = active_.back();
  active_[slot.active_at] = last;
  slots_[last].active_at = slot.active_at;
  active_.pop_back();
  slot.active_at = Slot::none;
}

}  // namespace cicada::bench
