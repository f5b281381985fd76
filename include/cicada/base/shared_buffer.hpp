// SharedBuffer: a fixed-capacity heap block of bytes with an atomic reference count.
// Received bytes are read into one, parsed in place, and every packet, message and
// subscriber that needs them holds a reference instead of a copy (STYLE.md 5).
// Thread-safety: the reference count is atomic, so handles to one block may be copied
// and dropped on any thread. The bytes themselves are written only by the owner that
// allocated the block, before it hands out references; afterwards they are immutable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace cicada {

class SharedBuffer {
 public:
  SharedBuffer() noexcept = default;
  // One allocation: a small header followed by `capacity` bytes.
  static SharedBuffer allocate(std::size_t capacity);
  // A new buffer holding a copy of `bytes`.
  static SharedBuffer copy_of(std::string_view bytes);

  SharedBuffer(const SharedBuffer& other) noexcept : block_(other.block_) { retain(); }
  SharedBuffer(SharedBuffer&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  SharedBuffer& operator=(const SharedBuffer& other) noexcept {
    if (this != &other) {
      release();
      block_ = other.block_;
      retain();
    }
    return *this;
  }
  SharedBuffer& operator=(SharedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  ~SharedBuffer() { release(); }

  explicit operator bool() const noexcept { return block_ != nullptr; }
  std::uint8_t* data() noexcept { return block_ ? block_->bytes() : nullptr; }
  const std::uint8_t* data() const noexcept { return block_ ? block_->bytes() : nullptr; }
  std::size_t capacity() const noexcept { return block_ ? block_->capacity : 0; }
  // Number of handles to the block; 1 means this handle is the only one, so the
  // bytes may be moved or overwritten.
  std::size_t use_count() const noexcept {
    return block_ ? block_->refs.load(std::memory_order_acquire) : 0;
  }
  bool unique() const noexcept { return use_count() == 1; }
  void reset() noexcept {
    release();
    block_ = nullptr;
  }
  // A view of bytes [offset, offset + size) of the block as characters.
  std::string_view view(std::size_t offset, std::size_t size) const noexcept {
    return {reinterpret_cast<const char*>(data()) + offset, size};
  }

 private:
  struct Block {
    std::atomic<std::size_t> refs;
    std::size_t capacity;
    std::uint8_t* bytes() noexcept { return reinterpret_cast<std::uint8_t*>(this + 1); }
  };
  explicit SharedBuffer(Block* block) noexcept : block_(block) {}
  void retain() noexcept {
    if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept;

  Block* block_ = nullptr;
};

}  // namespace cicada
