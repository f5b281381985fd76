// Editing a password file's text: add, update or delete one user's line, keeping every
// other line (comments, other users) as it was.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cicada::passwd {

// `text` with `username`'s line set to "username:hash" (replaced in place, or appended).
std::string set_user(std::string_view text, std::string_view username, std::string_view hash);
// `text` without `username`'s line; nullopt when there was none.
std::optional<std::string> delete_user(std::string_view text, std::string_view username);
// Why a user name cannot go into a password file, or nullopt when it can.
std::optional<std::string> check_username(std::string_view username);

}  // namespace cicada::passwd
