#include "topic_template.hpp"

namespace cicada::bench {

std::optional<std::string> check_template(std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (i + 1 == pattern.size()) return "topic '" + std::string(pattern) + "' ends with a lone '%'";
    const char next = pattern[++i];
    if (next != 'i' && next != 'c' && next != 'u' && next != '%') {
      return "topic '" + std::string(pattern) + "' has unknown placeholder '%" + next +
             "' (known: %i %c %u %%)";
    }
  }
  return std::nullopt;
}

std::string expand_template(std::string_view pattern, const TemplateValues& values) {
  std::string out;
  out.reserve(pattern.size() + 16);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != '%' || i + 1 == pattern.size()) {
      out += c;
      continue;
    }
    switch (pattern[i + 1]) {
      case 'i':
        out += std::to_string(values.index);
        break;
      case 'c':
        out += values.client_id;
        break;
      case 'u':
        out += values.username;
        break;
      case '%':
        out += '%';
        break;
      default:
        out += c;
        continue;  // not a placeholder: keep the next character as an ordinary one
    }
    ++i;
  }
  return out;
}

bool is_per_client(std::string_view pattern) noexcept {
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (pattern[i + 1] == 'i' || pattern[i + 1] == 'c') return true;
    ++i;  // skip the placeholder character, so "%%i" is not taken for %i
  }
  return false;
}

std::string wildcard_of(std::string_view pattern) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = pattern.find('/', start);
    const std::string_view level = pattern.substr(start, slash - start);
    out += is_per_client(level) ? std::string_view("+") : level;
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

}  // namespace cicada::bench
