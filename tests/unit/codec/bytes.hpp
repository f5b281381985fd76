// Building packets byte by byte for negative tests: helpers that spell out the wire
// format so each test shows exactly which byte breaks which rule.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace cicada::codec::testing {

// Raw bytes.
inline std::string b(std::initializer_list<int> bytes) {
  std::string out;
  for (int byte : bytes)
    out.push_back(static_cast<char>(byte));
  return out;
}

// A two-byte length followed by the bytes (a UTF-8 string or binary data field).
inline std::string str(std::string_view text) {
  return b({static_cast<int>(text.size() >> 8), static_cast<int>(text.size() & 0xFF)}) +
         std::string(text);
}

inline std::string u16(int value) {
  return b({(value >> 8) & 0xFF, value & 0xFF});
}

inline std::string varint(std::uint32_t value) {
  std::string out;
  do {
    auto byte = static_cast<char>(value & 0x7F);
    value >>= 7;
    if (value != 0) byte = static_cast<char>(byte | 0x80);
    out.push_back(byte);
  } while (value != 0);
  return out;
}

// A property block: Property Length then the given properties.
inline std::string props(std::string_view body = {}) {
  return varint(static_cast<std::uint32_t>(body.size())) + std::string(body);
}

// A whole packet: first byte, Remaining Length computed from the body, body.
inline std::string packet(int first_byte, std::string_view body) {
  return b({first_byte}) + varint(static_cast<std::uint32_t>(body.size())) + std::string(body);
}

}  // namespace cicada::codec::testing
