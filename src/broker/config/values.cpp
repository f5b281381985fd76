// Text forms of option values: sizes, durations, HOST:PORT and the environment names.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/options.hpp"

namespace cicada::broker::config {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

// Largest first, so formatting picks the largest unit that divides the value exactly.
// Sizes are powers of 1024, as in EMQX ("1MB" = 1048576 bytes).
constexpr std::array<Unit, 5> kSizeUnits{
    {{"TB", 1ull << 40}, {"GB", 1ull << 30}, {"MB", 1ull << 20}, {"KB", 1ull << 10}, {"B", 1}}};
// "ms" precedes "m" so that parsing tries the longer suffix first.
constexpr std::array<Unit, 5> kDurationUnits{
    {{"d", 86'400'000}, {"h", 3'600'000}, {"ms", 1}, {"m", 60'000}, {"s", 1'000}}};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Leading decimal digits of `text`, consumed. Nullopt if there are none or they overflow.
std::optional<std::uint64_t> take_number(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && is_digit(text[n]))
    ++n;
  if (n == 0) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + n, value);
  if (ec != std::errc{}) return std::nullopt;
  text.remove_prefix(n);
  return value;
}

std::optional<std::uint64_t> multiply(std::uint64_t a, std::uint64_t b) {
  if (b != 0 && a > kMax / b) return std::nullopt;
  return a * b;
}

std::string format_with(std::uint64_t value, const auto& units) {
  if (value == 0) return std::string("0").append(units.back().name);
  for (const Unit& unit : units) {
    if (value % unit.factor == 0)
      return std::to_string(value / unit.factor) + std::string(unit.name);
  }
  return std::to_string(value);  // unreachable: the last unit has factor 1
}

bool is_hostname_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
         c == '_';
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  auto number = take_number(text);
  if (!number) return std::nullopt;
  if (text.empty()) return number;  // a plain number of bytes
  for (const Unit& unit : kSizeUnits) {
    if (equal_ignoring_case(text, unit.name)) return multiply(*number, unit.factor);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    auto seconds = take_number(text);  // a plain number of seconds
    return seconds ? multiply(*seconds, 1000) : std::nullopt;
  }
  // One or more <number><unit> terms, summed: "1h30m", "2s500ms".
  std::uint64_t total = 0;
  while (!text.empty()) {
    auto number = take_number(text);
    if (!number) return std::nullopt;
    const Unit* matched = nullptr;
    for (const Unit& unit : kDurationUnits) {
      if (text.size() >= unit.name.size() &&
          equal_ignoring_case(text.substr(0, unit.name.size()), unit.name)) {
        matched = &unit;
        break;
      }
    }
    if (matched == nullptr) return std::nullopt;
    text.remove_prefix(matched->name.size());
    auto millis = multiply(*number, matched->factor);
    if (!millis || *millis > kMax - total) return std::nullopt;
    total += *millis;
  }
  return total;
}

std::string format_size(std::uint64_t bytes) {
  return format_with(bytes, kSizeUnits);
}

std::string format_duration_ms(std::uint64_t millis) {
  // Same order as kDurationUnits but with "ms" last, so 60000 prints as "1m", not "60000ms".
  static constexpr std::array<Unit, 5> units{
      {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
  if (millis == 0) return "0s";
  return format_with(millis, units);
}

std::optional<HostPort> parse_host_port(std::string_view text) {
  HostPort result;
  std::string_view port_text;
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    result.host = "0.0.0.0";  // a bare port listens on every IPv4 address, as EMQX's bind = 1883
    port_text = text;
  } else if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    result.host = std::string(text.substr(1, close - 1));
    in6_addr address{};
    if (inet_pton(AF_INET6, result.host.c_str(), &address) != 1) return std::nullopt;
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const std::string_view host = text.substr(0, colon);
    // An IPv6 address needs brackets, otherwise its last group would read as the port.
    for (char c : host) {
      if (!is_hostname_char(c)) return std::nullopt;
    }
    result.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  unsigned port = 0;
  std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port > 65535) return std::nullopt;
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out.append(":").append(std::to_string(port));
}

std::string format_number(OptionType type, bool milliseconds, std::uint64_t value) {
  switch (type) {
    case OptionType::size:
      return format_size(value);
    case OptionType::duration:
      return format_duration_ms(milliseconds ? value : value * 1000);
    default:
      return std::to_string(value);
  }
}

std::vector<std::string> split_names(std::string_view joined) {
  std::vector<std::string> names;
  while (!joined.empty()) {
    const auto comma = joined.find(',');
    std::string_view name = joined.substr(0, comma);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    joined.remove_prefix(comma + 1);
  }
  return names;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined += ',';
    joined += name;
  }
  return joined;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string toml_string(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

bool is_mqtt_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead == 0) return false;
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code = lead & 0x1Fu;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code = lead & 0x0Fu;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code = lead & 0x07u;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3Fu);
    }
    // Overlong forms, UTF-16 surrogates and values above U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string environment_name(std::string_view key) {
  std::string name = "CICADA_";
  for (char c : key) {
    if (c == '.') {
      name += "__";
    } else {
      name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return name;
}

}  // namespace cicada::broker::config
