#include "inflight_window.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

namespace cicada::bench {

InflightWindow::InflightWindow(std::uint16_t limit) {
  set_limit(limit);
}

void InflightWindow::set_limit(std::uint16_t limit) {
  assert(size_ == 0);
  limit_ = limit == 0 ? 1 : limit;
  // A power of two at least twice the limit leaves room for acknowledgements that
  // arrive out of order before the window stalls on an occupied slot.
  const std::size_t capacity = std::min<std::size_t>(std::bit_ceil(std::size_t{limit_} * 2), 65536);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
}

bool InflightWindow::can_acquire() const noexcept {
  return size_ < limit_ && slots_[slot_of(next_id_)].stage == Stage::free;
}

std::optional<std::uint16_t> InflightWindow::acquire(Stage stage, std::uint64_t sent_ns) noexcept {
  if (!can_acquire()) return std::nullopt;
  const std::uint16_t id = next_id_;
  // Packet identifiers are non-zero [MQTT-2.2.1-3].
  next_id_ = id == 65535 ? 1 : static_cast<std::uint16_t>(id + 1);
  slots_[slot_of(id)] = Slot{id, stage, sent_ns};
  ++size_;
  return id;
}

InflightWindow::Stage InflightWindow::stage_of(std::uint16_t packet_id) const noexcept {
  const Slot& slot = slots_[slot_of(packet_id)];
  return slot.packet_id == packet_id ? slot.stage : Stage::free;
}

void InflightWindow::advance(std::uint16_t packet_id, Stage stage) noexcept {
  Slot& slot = slots_[slot_of(packet_id)];
  if (slot.packet_id == packet_id && slot.stage != Stage::free) slot.stage = stage;
}

std::optional<std::uint64_t> InflightWindow::complete(std::uint16_t packet_id) noexcept {
  Slot& slot = slots_[slot_of(packet_id)];
  if (slot.packet_id != packet_id || slot.stage == Stage::free) return std::nullopt;
  slot.stage = Stage::free;
  --size_;
  return slot.sent_ns;
}

}  // namespace cicada::bench
