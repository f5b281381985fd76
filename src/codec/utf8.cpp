#include <cstdint>

#include <cicada/codec/utf8.hpp>

namespace cicada::codec {
namespace {

// Validates well-formed UTF-8 per the Unicode standard's table 3-7; when
// `reject_null` is set, U+0000 fails too. ASCII runs are checked eight bytes at a
// time because topics and most payloads are ASCII.
bool validate(std::string_view text, bool reject_null) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    if (end - p >= 8) {
      std::uint64_t word;
      __builtin_memcpy(&word, p, 8);
      // No high bit set and (when rejecting NUL) no zero byte in the word.
      constexpr std::uint64_t high = 0x8080808080808080ull;
      constexpr std::uint64_t ones = 0x0101010101010101ull;
      bool ascii = (word & high) == 0;
      bool has_zero = ((word - ones) & ~word & high) != 0;
      if (ascii && !(reject_null && has_zero)) {
        p += 8;
        continue;
      }
    }
    std::uint8_t c = *p;
    if (c < 0x80) {
      if (c == 0 && reject_null) return false;
      ++p;
      continue;
    }
    std::size_t left = static_cast<std::size_t>(end - p);
    auto cont = [](std::uint8_t b) { return (b & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) {
      if (left < 2 || !cont(p[1])) return false;
      p += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3 || !cont(p[1]) || !cont(p[2])) return false;
      if (c == 0xE0 && p[1] < 0xA0) return false;   // overlong
      if (c == 0xED && p[1] >= 0xA0) return false;  // U+D800-U+DFFF surrogates
      p += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return false;
      if (c == 0xF0 && p[1] < 0x90) return false;   // overlong
      if (c == 0xF4 && p[1] >= 0x90) return false;  // above U+10FFFF
      p += 4;
    } else {
      return false;  // continuation byte first, C0/C1 overlong lead, or F5-FF
    }
  }
  return true;
}

}  // namespace

bool is_well_formed_utf8(std::string_view text) noexcept {
  return validate(text, false);
}

bool is_valid_mqtt_string(std::string_view text) noexcept {
  return validate(text, true);
}

}  // namespace cicada::codec
