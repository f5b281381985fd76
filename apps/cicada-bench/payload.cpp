#include "payload.hpp"

#include <bit>
#include <cstring>

namespace cicada::bench {
namespace {

constexpr std::uint8_t magic[4] = {'C', 'B', 'N', '1'};

void store_le32(std::uint8_t* out, std::uint32_t value) noexcept {
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint32_t load_le32(const std::uint8_t* in) noexcept {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= std::uint32_t{in[i]} << (8 * i);
  return value;
}

}  // namespace

void store_le64(std::uint8_t* out, std::uint64_t value) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &value, sizeof value);
  } else {
    for (int i = 0; i < 8; ++i)
      out[i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
}

std::uint64_t load_le64(const std::uint8_t* in) noexcept {
  std::uint64_t value = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&value, in, sizeof value);
  } else {
    for (int i = 0; i < 8; ++i)
      value |= std::uint64_t{in[i]} << (8 * i);
  }
  return value;
}

void write_payload(std::span<std::uint8_t> out, const PayloadHeader& header) noexcept {
  std::memcpy(out.data(), magic, sizeof magic);
  store_le32(out.data() + 4, header.run_id);
  store_le32(out.data() + 8, header.publisher);
  store_le32(out.data() + 12, 0);
  patch_payload(out.data(), header.sequence, header.sent_ns);
  std::memset(out.data() + payload_header_size, '.', out.size() - payload_header_size);
}

void patch_payload(std::uint8_t* payload, std::uint64_t sequence, std::uint64_t sent_ns) noexcept {
  store_le64(payload + payload_sequence_offset, sequence);
  store_le64(payload + payload_time_offset, sent_ns);
}

std::optional<PayloadHeader> read_payload(std::string_view payload) noexcept {
  if (payload.size() < payload_header_size) return std::nullopt;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(payload.data());
  if (std::memcmp(bytes, magic, sizeof magic) != 0) return std::nullopt;
  return PayloadHeader{.run_id = load_le32(bytes + 4),
                       .publisher = load_le32(bytes + 8),
                       .sequence = load_le64(bytes + payload_sequence_offset),
                       .sent_ns = load_le64(bytes + payload_time_offset)};
}

}  // namespace cicada::bench
