// cicada-passwd: manages password files in mosquitto_passwd's format, so the same file
// serves Cicada and Mosquitto. Writes $7$ (PBKDF2-SHA512, 101 iterations, 12-byte salt)
// as mosquitto_passwd does by default. Flags as mosquitto_passwd:
//   cicada-passwd [-c | -D] FILE USER          prompts for the password (twice, no echo)
//   cicada-passwd [-c] -b FILE USER PASSWORD   batch mode
// The file is replaced atomically (written beside it, then renamed); a new file is
// created readable by its owner only.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/auth/password_file.hpp"
#include "broker/auth/password_hash.hpp"
#include "broker/auth/text_lines.hpp"
#include "password_editor.hpp"

namespace {

constexpr std::string_view kUsage =
    "cicada-passwd manages password files in mosquitto_passwd's format.\n"
    "\n"
    "Usage: cicada-passwd [-H sha512-pbkdf2] [-c | -D] passwordfile username\n"
    "       cicada-passwd [-H sha512-pbkdf2] [-c] -b passwordfile username password\n"
    " -b : batch mode: the password is the last argument.\n"
    " -c : create a new password file; an existing one is overwritten.\n"
    " -D : delete the user.\n"
    " -H : hash algorithm; only sha512-pbkdf2 ($7$, the default) is written.\n"
    "Without -b the password is read twice from the terminal, not echoed.\n";

int fail(const std::string& message) {
  std::cerr << "cicada-passwd: " << message << "\n";
  return 1;
}

// One line from standard input; echo is off while a terminal is typing it.
std::optional<std::string> read_secret(const char* prompt) {
  const bool tty = isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!ok) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Writes `text` beside `path` and renames it over `path`, keeping an existing file's mode.
std::optional<std::string> replace_file(const std::string& path, const std::string& text) {
  mode_t mode = S_IRUSR | S_IWUSR;
  struct stat existing {};
  if (stat(path.c_str(), &existing) == 0) mode = existing.st_mode & 07777;
  std::string temporary = path + ".tmp.XXXXXX";
  const int fd = mkstemp(temporary.data());
  if (fd < 0) return "cannot create " + temporary + ": " + std::strerror(errno);
  fchmod(fd, mode);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string error = std::strerror(errno);
      close(fd);
      unlink(temporary.c_str());
      return "cannot write " + temporary + ": " + error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(temporary.c_str());
    return "cannot write " + temporary + ": " + std::strerror(errno);
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string error = std::strerror(errno);
    unlink(temporary.c_str());
    return "cannot replace " + path + ": " + error;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cicada;
  bool create = false, remove = false, batch = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "-c") {
      create = true;
    } else if (arg == "-D") {
      remove = true;
    } else if (arg == "-b") {
      batch = true;
    } else if (arg == "-H") {
      if (i + 1 >= argc) return fail("-H needs an algorithm");
      if (std::string_view(argv[++i]) != "sha512-pbkdf2") {
        return fail("only -H sha512-pbkdf2 is written; $6$ sha512 is too weak for new files");
      }
    } else if (arg.size() > 1 && arg.front() == '-') {
      std::cerr << kUsage;
      return fail("unknown option " + std::string(arg));
    } else {
      positional.emplace_back(arg);
    }
  }
  if (create && remove) return fail("-c and -D cannot be used together");
  if (remove && batch) return fail("-D and -b cannot be used together");
  const std::size_t expected = batch ? 3 : 2;
  if (positional.size() != expected) {
    std::cerr << kUsage;
    return 1;
  }
  const std::string& path = positional[0];
  const std::string& username = positional[1];
  if (auto problem = passwd::check_username(username)) return fail(*problem);

  std::string text;
  if (!create) {
    auto existing = broker::auth::read_text_file(path);
    if (!existing) return fail(existing.error() + " (use -c to create it)");
    text = std::move(*existing);
    // Refuse to rewrite a file the broker could not read, rather than spread its damage.
    if (auto parsed = broker::auth::PasswordFile::parse(text, path); !parsed) {
      return fail(parsed.error());
    }
  }

  if (remove) {
    auto updated = passwd::delete_user(text, username);
    if (!updated) return fail("user " + username + " is not in " + path);
    if (auto error = replace_file(path, *updated)) return fail(*error);
    return 0;
  }

  std::string password;
  if (batch) {
    password = positional[2];
  } else {
    auto first = read_secret("Password: ");
    if (!first) return fail("no password given");
    auto second = read_secret("Reenter password: ");
    if (!second || *first != *second) return fail("the passwords do not match");
    password = std::move(*first);
  }
  if (password.size() > 65535) return fail("the password is longer than MQTT allows");
  const std::string hash = broker::auth::make_pbkdf2_hash(password);
  if (auto error = replace_file(path, passwd::set_user(text, username, hash))) return fail(*error);
  return 0;
}
