#include <cstring>
#include <new>

#include <cicada/base/shared_buffer.hpp>

namespace cicada {

SharedBuffer SharedBuffer::allocate(std::size_t capacity) {
  // The header is a multiple of alignof(max_align_t) in size, so the bytes that
  // follow it are suitably aligned for anything a parser overlays on them.
  static_assert(sizeof(Block) % alignof(std::max_align_t) == 0);
  void* memory = ::operator new(sizeof(Block) + capacity);
  auto* block = new (memory) Block{1, capacity};
  return SharedBuffer(block);
}

SharedBuffer SharedBuffer::copy_of(std::string_view bytes) {
  SharedBuffer buffer = allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.data(), bytes.data(), bytes.size());
  return buffer;
}

void SharedBuffer::release() noexcept {
  // acq_rel: the last owner must see every write made through other handles before
  // it frees the block (the usual reference-count protocol).
  if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->~Block();
    ::operator delete(block_);
  }
}

}  // namespace cicada
