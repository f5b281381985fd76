// Reading the line-oriented files of broker/auth (password and ACL files).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>

namespace cicada::broker::auth {

// The whole file, or "<path>: <strerror>".
Expected<std::string, std::string> read_text_file(const std::string& path);

// Without leading and trailing spaces, tabs and the '\r' of CRLF files.
std::string_view trim(std::string_view text) noexcept;

// Calls visit(line_number, line) for each line, 1-based, without its end of line; stops and
// returns the first error visit returns (a non-empty string).
template <class Visit>
std::string for_each_line(std::string_view text, Visit&& visit) {
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    std::string error = visit(++number, line);
    if (!error.empty()) return error;
  }
  return {};
}

}  // namespace cicada::broker::auth
