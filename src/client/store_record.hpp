// The on-disk form of one stored outgoing message (the client's file store): a magic,
// the body's length, the body (the time the message was first queued, QoS, retain,
// topic, payload, MQTT 5 properties) and a CRC-32 of the body, so a file cut short by a
// crash or flipped on disk is recognised and skipped rather than sent wrong.
//
// Versions: CCDAMSG2 (written) starts its body with the queue time, wall-clock seconds
// since the Unix epoch, because a message read back by a later process must count its
// Message Expiry Interval from then [MQTT-3.3.2-6]. CCDAMSG1, from before the time was
// kept, is still read: such a message has no queue time and counts from when it is
// read, as it did then.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>
#include <cicada/client/types.hpp>

namespace cicada::client::store {

inline constexpr std::string_view record_magic = "CCDAMSG2";
inline constexpr std::string_view record_magic_v1 = "CCDAMSG1";  // read, never written

struct Record {
  Message message;
  // Seconds since the Unix epoch (system_clock) when publish() accepted the message;
  // nullopt for a CCDAMSG1 record.
  std::optional<std::uint64_t> queued_at;
};

// CRC-32 (IEEE 802.3, the polynomial zlib and gzip use).
std::uint32_t crc32(std::string_view bytes) noexcept;

std::uint64_t unix_seconds(std::chrono::system_clock::time_point t) noexcept;

std::string encode_record(const Message& message, std::uint64_t queued_at);
// Why a file is not a message: "truncated: ...", "bad magic", "checksum mismatch", ...
Expected<Record, std::string> decode_record(std::string_view bytes);

// How long a message queued at `queued_at` has waited by `now` (both unix seconds):
// 0 without a queue time, or when the clock now reads earlier than it did then (set
// back): the interval is then counted from the load, as a CCDAMSG1 record's is.
std::uint64_t seconds_waited(std::optional<std::uint64_t> queued_at, std::uint64_t now) noexcept;

}  // namespace cicada::client::store
