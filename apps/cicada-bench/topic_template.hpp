// Topic templates: a topic name or filter given once on the command line and expanded
// per client, as emqtt-bench does. Placeholders:
//   %i  the client's index (--startnumber + its position among clients of its role)
//   %c  the client's id
//   %u  the username (empty without -u)
//   %%  a literal '%'
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cicada::bench {

struct TemplateValues {
  std::uint64_t index = 0;
  std::string_view client_id;
  std::string_view username;
};

// An error message when `pattern` holds an unknown placeholder or a lone '%' at its end.
std::optional<std::string> check_template(std::string_view pattern);

// `pattern` with every placeholder replaced. Unknown placeholders are copied as they are
// (check_template rejects them first).
std::string expand_template(std::string_view pattern, const TemplateValues& values);

// Whether the expansion differs between clients, i.e. the pattern uses %i or %c.
bool is_per_client(std::string_view pattern) noexcept;

// A filter matching every client's expansion of `pattern`: each level that holds %i or
// %c becomes '+' ("bench/%i/x" -> "bench/+/x"); other placeholders stay.
std::string wildcard_of(std::string_view pattern);

}  // namespace cicada::bench
