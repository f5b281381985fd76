// The payload of a benchmark PUBLISH: a fixed 32-byte header that lets a subscriber
// compute loss, duplicates and latency, then padding up to the requested size.
//
//   offset size  field
//        0    4  magic "CBN1"
//        4    4  run id: random per publishing process, so streams of two runs differ
//        8    4  publisher index (the %i of the publishing client)
//       12    4  reserved, 0
//       16    8  sequence number: 0, 1, 2, ... per publisher
//       24    8  send time: CLOCK_MONOTONIC in ns, taken when the packet is queued
//       32    -  padding ('.')
// Integers are little-endian. The send time is comparable only with a receiver on the
// same host (CLOCK_MONOTONIC is per boot), which is how cicada-bench uses it.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace cicada::bench {

inline constexpr std::size_t payload_header_size = 32;
inline constexpr std::size_t payload_sequence_offset = 16;
inline constexpr std::size_t payload_time_offset = 24;

struct PayloadHeader {
  std::uint32_t run_id = 0;
  std::uint32_t publisher = 0;
  std::uint64_t sequence = 0;
  std::uint64_t sent_ns = 0;
  bool operator==(const PayloadHeader&) const = default;
};

// Writes the header and fills the rest of `out` (at least payload_header_size bytes)
// with padding.
void write_payload(std::span<std::uint8_t> out, const PayloadHeader& header) noexcept;

// Rewrites sequence and send time of a payload written by write_payload: the per-
// message work of a publisher, no allocation.
void patch_payload(std::uint8_t* payload, std::uint64_t sequence, std::uint64_t sent_ns) noexcept;

// The header of a payload written by write_payload; nullopt for a foreign payload
// (too short or without the magic).
std::optional<PayloadHeader> read_payload(std::string_view payload) noexcept;

// Little-endian stores and loads of 64-bit values.
void store_le64(std::uint8_t* out, std::uint64_t value) noexcept;
std::uint64_t load_le64(const std::uint8_t* in) noexcept;

}  // namespace cicada::bench
