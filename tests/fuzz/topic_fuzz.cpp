// libFuzzer target for topic validation and matching (MQTT 5.0 sections 4.7, 4.8.2).
//
// The input is "<filter> 0x00 <name>"; without a 0x00 the whole input is used as both,
// which makes the interesting filter == name case common. Each string is validated,
// and invariants that tie the functions to each other, and matches() to a plainly
// written split-into-levels reference, are checked. Allocation is fine here: only the
// code under test has to be allocation-free.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/topic/topic.hpp>

namespace {

using cicada::topic::TopicError;
namespace topic = cicada::topic;

// A violated invariant is a bug in the code under test: stop with the reason.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "topic_fuzz invariant violated: %s\n", what);
  std::abort();
}

bool is_shared(std::string_view filter) {
  return filter.starts_with("$share/");
}

std::vector<std::string_view> split_levels(std::string_view s) {
  std::vector<std::string_view> levels;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = s.find('/', start);
    levels.push_back(s.substr(start, slash - start));
    if (slash == std::string_view::npos) return levels;
    start = slash + 1;
  }
}

// Section 4.7 written the obvious way, to check the single-scan matches() against.
bool reference_matches(std::string_view filter, std::string_view name) {
  if (name.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;
  const std::vector<std::string_view> f = split_levels(filter);
  const std::vector<std::string_view> n = split_levels(name);
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;
    if (i >= n.size()) return false;
    if (f[i] != "+" && f[i] != n[i]) return false;
  }
  return f.size() == n.size();
}

bool known_error(TopicError error) {
  return error <= TopicError::share_without_filter && topic::to_string(error) != "";
}

// Rules that hold for any string, valid or not.
void check_validation(std::string_view s) {
  const TopicError name_error = topic::validate_name(s);
  const TopicError filter_error = topic::validate_filter(s);
  require(known_error(name_error) && known_error(filter_error), "unknown error value");
  require((name_error == TopicError::empty) == s.empty(), "name: empty iff size 0");
  require((filter_error == TopicError::empty) == s.empty(), "filter: empty iff size 0");
  require((name_error == TopicError::too_long) == (s.size() > 65535), "name: too_long");
  require((filter_error == TopicError::too_long) == (s.size() > 65535), "filter: too_long");
  const bool has_null = s.find('\0') != std::string_view::npos;
  if (name_error == TopicError::ok) {
    require(!has_null && !topic::has_wildcard(s), "valid name with NUL or wildcard");
    // A valid name is a valid wildcard-free filter, unless it reads as a share.
    require(filter_error == TopicError::ok || is_shared(s), "valid name is not a filter");
  }
  if (filter_error == TopicError::ok) {
    require(!has_null, "valid filter with NUL");
    if (!topic::has_wildcard(s)) require(name_error == TopicError::ok, "literal filter");
  }

  const auto shared = topic::parse_shared(s);
  require(shared.has_value() == is_shared(s), "parse_shared iff \"$share/\" prefix");
  if (shared && filter_error == TopicError::ok) {
    require(!shared->group.empty(), "empty group");
    require(shared->group.find_first_of("/+#") == std::string_view::npos, "bad group");
    require(!shared->filter.empty(), "empty shared filter");
    require(std::string("$share/").append(shared->group).append("/").append(shared->filter) == s,
            "parse_shared does not reassemble");
    // The inner filter obeys the ordinary rules; "x/" stops it reading as a share.
    require(topic::validate_filter(std::string("x/").append(shared->filter)) == TopicError::ok,
            "inner filter breaks the ordinary rules");
    if (!is_shared(shared->filter)) {
      require(topic::validate_filter(shared->filter) == TopicError::ok, "inner filter invalid");
    }
  }
}

void check_match(std::string_view filter, std::string_view name) {
  const bool result = topic::matches(filter, name);
  require(result == reference_matches(filter, name), "matches() differs from reference");
  if (!topic::has_wildcard(filter)) require(result == (filter == name), "literal filter");
  if (filter == "#") require(result == (name.front() != '$'), "\"#\"");
  if (result && (filter.front() == '+' || filter.front() == '#')) {
    require(name.front() != '$', "[MQTT-4.7.2-1]");
  }
}

// A filter derived from a name; skipped when it is not a valid non-shared filter (a
// "$share/..." name, or one grown past the length limit).
void check_derived(std::string_view filter, std::string_view name, bool expected,
                   const char* what) {
  if (is_shared(filter) || filter.size() > 65535) return;
  require(topic::validate_filter(filter) == TopicError::ok, what);
  require(topic::matches(filter, name) == expected, what);
}

// Filters built from a valid name that must (or must not) match it; random bytes
// rarely produce a matching wildcard filter on their own.
void check_generalisations(std::string_view name) {
  const bool dollar = name.front() == '$';
  check_derived(name, name, true, "name does not match itself");

  std::string all_plus;  // every level replaced by '+'
  std::string prefix;    // the levels seen so far, each followed by '/'
  std::size_t depth = 0;
  for (const std::string_view level : split_levels(name)) {
    // "a/b/c" is matched by "#" ('$' rule aside), "a/#" and "a/b/#". Only the first
    // levels: checking every prefix of a name like "////..." is quadratic.
    if (depth++ < 8) check_derived(prefix + "#", name, !(dollar && prefix.empty()), "prefix/#");
    prefix.append(level).append("/");
    all_plus.append(all_plus.empty() ? "+" : "/+");
  }
  check_derived(all_plus, name, !dollar, "all-plus filter");
  // '#' also matches its parent level: "a/b/c/#" matches "a/b/c".
  check_derived(prefix + "#", name, true, "name/#");
  check_derived(all_plus + "/+", name, false, "one '+' level too many");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  const std::string_view filter = input.substr(0, split);
  const std::string_view name = split == std::string_view::npos ? input : input.substr(split + 1);

  check_validation(filter);
  if (name.data() != filter.data()) check_validation(name);

  if (topic::validate_name(name) != TopicError::ok) return 0;
  check_generalisations(name);
  if (topic::validate_filter(filter) == TopicError::ok && !is_shared(filter)) {
    check_match(filter, name);
  }
  return 0;
}
