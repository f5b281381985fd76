#include "password_editor.hpp"

#include <vector>

namespace cicada::passwd {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return lines;
}

bool is_line_of(std::string_view line, std::string_view username) {
  return line.size() > username.size() && line.starts_with(username) &&
         line[username.size()] == ':';
}

}  // namespace

std::string set_user(std::string_view text, std::string_view username, std::string_view hash) {
  const std::string entry = std::string(username) + ":" + std::string(hash);
  std::string out;
  bool replaced = false;
  for (std::string_view line : lines_of(text)) {
    if (is_line_of(line, username)) {
      if (replaced) continue;  // a duplicate: keep one line per user
      out += entry;
      replaced = true;
    } else {
      out += line;
    }
    out += '\n';
  }
  if (!replaced) out += entry + "\n";
  return out;
}

std::optional<std::string> delete_user(std::string_view text, std::string_view username) {
  std::string out;
  bool found = false;
  for (std::string_view line : lines_of(text)) {
    if (is_line_of(line, username)) {
      found = true;
      continue;
    }
    out += line;
    out += '\n';
  }
  if (!found) return std::nullopt;
  return out;
}

std::optional<std::string> check_username(std::string_view username) {
  if (username.empty()) return "the user name is empty";
  if (username.size() > 65535) return "the user name is longer than MQTT allows (65535 bytes)";
  for (char c : username) {
    if (c == ':') return "the user name may not contain ':'";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "the user name may not contain control characters";
    }
  }
  if (username.front() == '#') return "the user name may not start with '#' (a comment)";
  if (username.front() == ' ' || username.back() == ' ') {
    return "the user name may not start or end with a space";
  }
  return std::nullopt;
}

}  // namespace cicada::passwd
