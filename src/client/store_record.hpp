// The on-disk form of one stored outgoing message (the client's file store): a magic,
// the body's length, the body (QoS, retain, topic, payload, MQTT 5 properties) and a
// CRC-32 of the body, so a file cut short by a crash or flipped on disk is recognised
// and skipped rather than sent wrong.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>
#include <cicada/client/types.hpp>

namespace cicada::client::store {

inline constexpr std::string_view record_magic = "CCDAMSG1";

// CRC-32 (IEEE 802.3, the polynomial zlib and gzip use).
std::uint32_t crc32(std::string_view bytes) noexcept;

std::string encode_record(const Message& message);
// Why a file is not a message: "truncated: ...", "bad magic", "checksum mismatch", ...
Expected<Message, std::string> decode_record(std::string_view bytes);

}  // namespace cicada::client::store
