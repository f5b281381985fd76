// Checking one value, as written in a file, a variable or a flag, against its row of the
// options table. One conversion per option type, so a value is checked the same way
// wherever it comes from.
// Private to src/broker/config. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/options.hpp"

namespace cicada::broker::config {

// Throws ConfigError "<where>: <key>: <what>" ("<where>: <what>" when key is empty).
[[noreturn]] void fail(std::string_view where, std::string_view key, std::string_view what);

// One value as written: a TOML value from the file, or text from the environment or the
// command line, where every value is text (so "60" is an integer there, and "true" a boolean).
struct Written {
  enum class Kind { boolean, integer, text, list, other };
  Kind kind = Kind::other;
  bool boolean = false;
  std::int64_t integer = 0;
  std::string text;                // Kind::text: the text; Kind::other: a description, "a table"
  std::vector<std::string> items;  // Kind::list: a TOML array's strings
  bool is_text_source = false;

  std::string shown() const;  // for "got ...": true, 5, "text", a table
};

Written from_text(std::string_view text);

// The value `w` means for option `o`, checked against its type and bounds; otherwise fails
// naming `where` and `key`. Instantiated for the rows of Config, TcpListenerConfig,
// AuthenticatorConfig and AuthorizationSourceConfig.
template <class Target>
OptionValue convert(const OptionSpec<Target>& o, const Written& w, std::string_view where,
                    std::string_view key);

}  // namespace cicada::broker::config
