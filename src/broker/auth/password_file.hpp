// A password file in mosquitto_passwd's format: one `username:hash` per line, blank lines
// and lines starting with '#' ignored. As an authenticator, a known user with the right
// password is allowed, a known user with any other (or no) password denied, and anyone
// else ignored so that the next authenticator may answer.
// Thread-safety: immutable once loaded; any thread may call authenticate().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>

#include "broker/auth/password_hash.hpp"
#include "broker/auth/verdict.hpp"

namespace cicada::broker::auth {

class PasswordFile {
 public:
  // Reads and checks the whole file. The error is "<path>:<line>: <what>" (or
  // "<path>: <what>" when the file cannot be read); no line's hash is ever quoted.
  static Expected<PasswordFile, std::string> load(const std::string& path);
  // The same from text already read; `name` stands for the path in errors.
  static Expected<PasswordFile, std::string> parse(std::string_view text, std::string_view name);

  Verdict authenticate(std::string_view username, const std::optional<std::string>& password) const;
  bool contains(std::string_view username) const { return users_.contains(username); }
  std::size_t size() const noexcept { return users_.size(); }

 private:
  std::map<std::string, PasswordHash, std::less<>> users_;
};

}  // namespace cicada::broker::auth
