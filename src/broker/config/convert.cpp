// Checking one value against its row of the options table.
#include "broker/config/convert.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/config/options.hpp"

namespace cicada::broker::config {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// A non-negative whole number: a TOML integer, or decimal digits from a text source.
std::optional<std::uint64_t> whole_number(const Written& w) {
  if (w.kind == Written::Kind::integer) {
    if (w.integer < 0) return std::nullopt;
    return static_cast<std::uint64_t>(w.integer);
  }
  if (w.kind == Written::Kind::text && w.is_text_source && !w.text.empty()) {
    std::uint64_t value = 0;
    const char* end = w.text.data() + w.text.size();
    auto [ptr, ec] = std::from_chars(w.text.data(), end, value);
    if (ec == std::errc{} && ptr == end) return value;
  }
  return std::nullopt;
}

template <class Target>
std::string bounds_text(const OptionSpec<Target>& o) {
  return format_number(o.type, o.milliseconds, o.min) + " and " +
         format_number(o.type, o.milliseconds, o.max);
}

}  // namespace

void fail(std::string_view where, std::string_view key, std::string_view what) {
  std::string message(where);
  message += ": ";
  if (!key.empty()) {
    message += key;
    message += ": ";
  }
  message += what;
  throw ConfigError(message);
}

std::string Written::shown() const {
  switch (kind) {
    case Kind::boolean:
      return boolean ? "true" : "false";
    case Kind::integer:
      return std::to_string(integer);
    case Kind::text:
      return toml_string(text);
    case Kind::list: {
      std::string shown = "[";
      for (const std::string& item : items) {
        if (shown.size() > 1) shown += ", ";
        shown += toml_string(item);
      }
      return shown + "]";
    }
    case Kind::other:
      break;
  }
  return text;
}

Written from_text(std::string_view text) {
  return {.kind = Written::Kind::text, .text = std::string(text), .is_text_source = true};
}

// Checks `w` against the row's type and bounds; fails naming `where` and `key`.
template <class Target>
OptionValue convert(const OptionSpec<Target>& o, const Written& w, std::string_view where,
                    std::string_view key) {
  const std::string got = ", got " + w.shown();
  const bool is_text = w.kind == Written::Kind::text;
  switch (o.type) {
    case OptionType::boolean:
      if (w.kind == Written::Kind::boolean) return w.boolean;
      if (is_text && w.is_text_source && equal_ignoring_case(w.text, "true")) return true;
      if (is_text && w.is_text_source && equal_ignoring_case(w.text, "false")) return false;
      fail(where, key, "expected true or false" + got);
    case OptionType::integer: {
      const auto n = whole_number(w);
      if (!n || *n < o.min || *n > o.max) {
        fail(where, key, "expected an integer between " + bounds_text(o) + got);
      }
      return *n;
    }
    case OptionType::size: {
      std::optional<std::uint64_t> bytes;
      if (w.kind == Written::Kind::integer) {
        bytes = whole_number(w);
      } else if (is_text) {
        bytes = parse_size(w.text);
        if (!bytes) {
          fail(where, key,
               "expected a size such as 512B, 64KB, 1MB or 1GB (or a plain number of bytes)" + got);
        }
      } else {
        fail(where, key, "expected a size such as 512B, 64KB, 1MB or 1GB" + got);
      }
      if (!bytes || *bytes < o.min || *bytes > o.max) {
        fail(where, key, "expected a size between " + bounds_text(o) + got);
      }
      return *bytes;
    }
    case OptionType::duration: {
      std::optional<std::uint64_t> millis;
      if (w.kind == Written::Kind::integer) {
        const auto seconds = whole_number(w);
        if (seconds && *seconds <= UINT64_MAX / 1000) millis = *seconds * 1000;
      } else if (is_text) {
        millis = parse_duration_ms(w.text);
        if (!millis) {
          fail(where, key,
               "expected a duration such as 500ms, 15s, 5m, 2h or 1d (or a plain number of "
               "seconds)" +
                   got);
        }
      } else {
        fail(where, key, "expected a duration such as 500ms, 15s, 5m, 2h or 1d" + got);
      }
      std::optional<std::uint64_t> value = millis;
      if (millis && !o.milliseconds) {
        if (*millis % 1000 != 0) fail(where, key, "expected a whole number of seconds" + got);
        value = *millis / 1000;
      }
      if (!value || *value < o.min || *value > o.max) {
        fail(where, key, "expected a duration between " + bounds_text(o) + got);
      }
      return *value;
    }
    case OptionType::string:
      if (!is_text) fail(where, key, "expected a string" + got);
      if (w.text.size() < o.min || w.text.size() > o.max) {
        fail(where, key,
             "expected a string of at most " + std::to_string(o.max) + " bytes, got " +
                 std::to_string(w.text.size()));
      }
      if (!is_mqtt_utf8(w.text)) {
        fail(where, key, "expected UTF-8 text without U+0000 [MQTT-1.5.4-1], [MQTT-1.5.4-2]");
      }
      return w.text;
    case OptionType::enumeration: {
      if (is_text && std::find(o.choices.begin(), o.choices.end(), w.text) != o.choices.end()) {
        return w.text;
      }
      std::string expected = "expected one of ";
      for (std::size_t i = 0; i < o.choices.size(); ++i) {
        if (i != 0) expected += i + 1 == o.choices.size() ? " or " : ", ";
        expected += o.choices[i];
      }
      fail(where, key, expected + got);
    }
    case OptionType::bind: {
      std::optional<HostPort> host_port;
      if (w.kind == Written::Kind::integer) {
        host_port = parse_host_port(std::to_string(w.integer));
      } else if (is_text) {
        host_port = parse_host_port(w.text);
      }
      if (!host_port) {
        fail(where, key,
             "expected HOST:PORT with a port from 0 to 65535 and an IPv6 host in brackets, as "
             "in [::]:1883" +
                 got);
      }
      return format_host_port(host_port->host, host_port->port);
    }
    case OptionType::names: {
      std::vector<std::string> names;
      if (w.kind == Written::Kind::list) {
        names = w.items;
      } else if (is_text && w.is_text_source) {
        names = split_names(w.text);
      } else {
        fail(where, key, "expected an array of names, as [\"a\", \"b\"]" + got);
      }
      for (const std::string& name : names) {
        if (!valid_name(name)) {
          fail(where, key,
               "expected names of lower-case letters, digits, '_' and '-', got " +
                   toml_string(name));
        }
      }
      return join_names(names);
    }
  }
  fail(where, key, "unsupported option type");
}

template OptionValue convert(const Option&, const Written&, std::string_view, std::string_view);
template OptionValue convert(const ListenerOption&, const Written&, std::string_view,
                             std::string_view);
template OptionValue convert(const AuthenticatorOption&, const Written&, std::string_view,
                             std::string_view);
template OptionValue convert(const AuthorizationSourceOption&, const Written&, std::string_view,
                             std::string_view);

}  // namespace cicada::broker::config
