// Topic names and topic filters: validation and matching (MQTT 5.0 section 4.7,
// 4.8.2; MQTT 3.1.1 section 4.7).
// Thread-safety: free functions over their arguments only; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cicada::topic {

// Why a topic name or filter was rejected. UTF-8 well-formedness is the codec's
// concern (it checks every string as it decodes it); these rules are structural.
enum class TopicError : std::uint8_t {
  ok = 0,
  empty,                 // [MQTT-4.7.3-1] at least one character
  too_long,              // [MQTT-4.7.3-3] at most 65,535 bytes
  null_character,        // [MQTT-4.7.3-2] no U+0000
  wildcard_in_name,      // [MQTT-3.3.2-2] no '+' or '#' in a topic name
  hash_not_last,         // [MQTT-4.7.1-1] '#' only as the last level
  wildcard_not_alone,    // [MQTT-4.7.1-1], [MQTT-4.7.1-2] '+'/'#' must fill their level
  invalid_share_name,    // [MQTT-4.8.2-1] ShareName: 1+ chars, no '/', '+', '#'
  share_without_filter,  // [MQTT-4.8.2-2] "$share/{ShareName}/" followed by a filter
};

// A human-readable name of the error, for logs and reason strings.
std::string_view to_string(TopicError error) noexcept;

// Validates a topic name as carried by PUBLISH (and a Will Topic).
TopicError validate_name(std::string_view name) noexcept;

// Validates a topic filter as carried by SUBSCRIBE / UNSUBSCRIBE, including the
// "$share/{ShareName}/{filter}" form.
TopicError validate_filter(std::string_view filter) noexcept;

// "$share/group/a/b" splits into group "group" and filter "a/b". Returns nullopt for
// a filter that is not a shared-subscription filter. Only meaningful for a filter
// that validate_filter accepted.
struct SharedFilter {
  std::string_view group;
  std::string_view filter;
};
std::optional<SharedFilter> parse_shared(std::string_view filter) noexcept;

// True when the (valid, non-shared) filter matches the (valid) topic name.
// A filter starting with '+' or '#' does not match a name starting with '$'
// [MQTT-4.7.2-1].
bool matches(std::string_view filter, std::string_view name) noexcept;

// True when the filter contains '+' or '#'.
bool has_wildcard(std::string_view filter) noexcept;

}  // namespace cicada::topic
