// InflightWindow: the outgoing QoS 1 and 2 PUBLISH packets of one connection that await
// their acknowledgement, keyed by packet identifier. Identifiers are handed out in
// order (1, 2, ..., 65535, 1, ...) and slot i holds identifier i mod capacity, so
// acquire and complete are O(1) and allocate nothing. The limit is the smaller of the
// tool's --inflight and the broker's Receive Maximum (MQTT 5.0 section 3.3.4
// [MQTT-3.3.4-7]: no more unacknowledged QoS 1/2 PUBLISH packets than that).
// Thread-safety: single owner (the connection's worker).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace cicada::bench {

class InflightWindow {
 public:
  enum class Stage : std::uint8_t { free, await_puback, await_pubrec, await_pubcomp };

  // limit in [1, 65535].
  explicit InflightWindow(std::uint16_t limit = 1);

  // Lowers (or raises) the limit; only while nothing is in flight (after CONNACK).
  void set_limit(std::uint16_t limit);
  std::uint16_t limit() const noexcept { return limit_; }
  std::uint32_t size() const noexcept { return size_; }

  // Whether acquire() would succeed: below the limit, and the slot of the next
  // identifier is free (a very old unacknowledged packet may still hold it).
  bool can_acquire() const noexcept;
  // A fresh packet identifier in `stage`, sent at `sent_ns`; nullopt when !can_acquire().
  std::optional<std::uint16_t> acquire(Stage stage, std::uint64_t sent_ns) noexcept;

  // The stage of `packet_id`; Stage::free when it is not in flight.
  Stage stage_of(std::uint16_t packet_id) const noexcept;
  // Moves an in-flight packet to the next stage (PUBREC received: await PUBCOMP).
  void advance(std::uint16_t packet_id, Stage stage) noexcept;
  // Ends a packet's flight; returns its send time, or nullopt when it was not in
  // flight (a duplicate or unknown acknowledgement).
  std::optional<std::uint64_t> complete(std::uint16_t packet_id) noexcept;

 private:
  struct Slot {
    std::uint16_t packet_id = 0;
    Stage stage = Stage::free;
    std::uint64_t sent_ns = 0;
  };
  std::size_t slot_of(std::uint16_t packet_id) const noexcept { return packet_id & mask_; }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::uint16_t limit_ = 1;
  std::uint32_t size_ = 0;
  std::uint16_t next_id_ = 1;
};

}  // namespace cicada::bench
