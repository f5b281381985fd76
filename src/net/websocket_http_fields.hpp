// HTTP header helpers both sides of the WebSocket handshake share: case-insensitive
// comparison and the comma-separated token lists of Upgrade, Connection and
// Sec-WebSocket-Protocol (RFC 9110 §5.6.1), over Beast's parsed fields.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <string_view>

namespace cicada::net::websocket {

namespace http = boost::beast::http;

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Calls `visit` with each element of a comma-separated header list, over every field
// of that name (RFC 9110 §5.3: repeated fields are one list).
template <class Fields, class Visit>
void for_each_token(const Fields& fields, http::field name, Visit visit) {
  auto range = fields.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view rest(it->value().data(), it->value().size());
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view token = trim(rest.substr(0, comma));
      if (!token.empty()) visit(token);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
}

template <class Fields>
bool has_token(const Fields& fields, http::field name, std::string_view wanted) {
  bool found = false;
  for_each_token(fields, name, [&](std::string_view token) { found |= iequals(token, wanted); });
  return found;
}

}  // namespace cicada::net::websocket
