// OutBuffer: a connection's queued output, one contiguous run of bytes so a loop turn
// flushes it with a single send(). Space is reused: the buffer grows to the largest
// batch it has held and then stops allocating.
// Thread-safety: single owner (the connection's worker).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace cicada::bench {

class OutBuffer {
 public:
  const std::uint8_t* data() const noexcept { return bytes_.get() + head_; }
  std::size_t size() const noexcept { return tail_ - head_; }
  bool empty() const noexcept { return head_ == tail_; }
  std::size_t capacity() const noexcept { return capacity_; }

  void reserve(std::size_t capacity) {
    if (capacity > capacity_) reallocate(capacity);
  }

  // `n` writable bytes at the end of the queued bytes.
  std::uint8_t* extend(std::size_t n) {
    if (capacity_ - tail_ < n) make_room(n);
    std::uint8_t* out = bytes_.get() + tail_;
    tail_ += n;
    return out;
  }
  void append(const void* bytes, std::size_t n) { std::memcpy(extend(n), bytes, n); }

  // Drops `n` bytes from the front (they were sent).
  void consume(std::size_t n) noexcept {
    head_ += n;
    if (head_ == tail_) head_ = tail_ = 0;
  }
  void clear() noexcept { head_ = tail_ = 0; }

 private:
  void make_room(std::size_t n) {
    const std::size_t pending = size();
    if (capacity_ - pending >= n && head_ != 0) {
      std::memmove(bytes_.get(), bytes_.get() + head_, pending);
      head_ = 0;
      tail_ = pending;
      return;
    }
    reallocate(std::max({capacity_ * 2, pending + n, std::size_t{256}}));
  }
  void reallocate(std::size_t capacity) {
    auto fresh = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
    if (!empty()) std::memcpy(fresh.get(), data(), size());
    tail_ = size();
    head_ = 0;
    bytes_ = std::move(fresh);
    capacity_ = capacity;
  }

  std::unique_ptr<std::uint8_t[]> bytes_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace cicada::bench
