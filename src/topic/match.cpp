// Topic filter matching (MQTT 5.0 section 4.7).
//
// Every PUBLISH is matched against many filters, so this is a single forward scan over
// both strings with no splitting into levels and no allocation. It relies on the
// filter being valid: a wildcard then always starts a level, and because every literal
// byte before it (including each '/') compared equal, the name is at the start of the
// same level. On an invalid filter it still never reads out of bounds.
#include <cstddef>
#include <string_view>

#include <cicada/topic/topic.hpp>

namespace cicada::topic {

bool matches(std::string_view filter, std::string_view name) noexcept {
  // [MQTT-4.7.2-1] Server-internal '$' topics must be subscribed to explicitly.
  if (!name.empty() && name.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#')) {
    return false;
  }

  const std::size_t filter_size = filter.size();
  const std::size_t name_size = name.size();
  std::size_t f = 0;
  std::size_t n = 0;
  while (f < filter_size) {
    const char c = filter[f];
    if (c == '#') return true;  // '#' is last: it matches the rest, whatever it is.
    if (c == '+') {
      // Exactly one level, which may be empty.
      while (n < name_size && name[n] != '/')
        ++n;
      ++f;
      continue;
    }
    if (n == name_size) {
      // "sport/#" matches "sport": '#' also matches the parent level (section 4.7.1.2).
      return filter.substr(f) == "/#";
    }
    if (name[n] != c) return false;
    ++f;
    ++n;
  }
  return n == name_size;
}

}  // namespace cicada::topic
