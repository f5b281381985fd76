#include "broker/auth/password_file.hpp"

#include "broker/auth/text_lines.hpp"

namespace cicada::broker::auth {

Expected<PasswordFile, std::string> PasswordFile::load(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return unexpected(text.error());
  return parse(*text, path);
}

Expected<PasswordFile, std::string> PasswordFile::parse(std::string_view text,
                                                        std::string_view name) {
  PasswordFile file;
  const std::string error =
      for_each_line(text, [&](std::size_t number, std::string_view raw) -> std::string {
        const auto where = std::string(name) + ":" + std::to_string(number) + ": ";
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') return {};
        // The user name is everything before the first ':' (mosquitto_passwd refuses
        // names containing ':'), the hash everything after it.
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return where + "expected username:hash";
        const std::string_view user = line.substr(0, colon);
        if (user.empty()) return where + "empty user name";
        auto hash = parse_password_hash(line.substr(colon + 1));
        if (!hash) return where + "user " + std::string(user) + ": " + hash.error();
        if (!file.users_.emplace(std::string(user), std::move(*hash)).second) {
          return where + "user " + std::string(user) + " appears twice";
        }
        return {};
      });
  if (!error.empty()) return unexpected(error);
  return file;
}

Verdict PasswordFile::authenticate(std::string_view username,
                                   const std::optional<std::string>& password) const {
  const auto it = users_.find(username);
  if (it == users_.end()) return Verdict::ignore;
  // A known user without a password is refused, as Mosquitto does.
  if (!password) return Verdict::deny;
  return verify_password(it->second, *password) ? Verdict::allow : Verdict::deny;
}

}  // namespace cicada::broker::auth
