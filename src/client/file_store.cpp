// The client's file store (see file_store.hpp): POSIX files, one per message, state
// in the name. fsync only with FileStoreOptions::Sync::always; without it the page
// cache keeps what was written across a crash of the process, not of the machine.
#include "file_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "store_record.hpp"

namespace cicada::client {

namespace fs = std::filesystem;

namespace {

std::string errno_text(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

Expected<std::string, std::string> read_file(const std::string& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unexpected(errno_text("cannot open", path));
  std::string data;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto why = errno_text("cannot read", path);
      ::close(fd);
      return unexpected(std::move(why));
    }
    if (n == 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > limit) {
      ::close(fd);
      return unexpected(std::string("larger than any message this store writes"));
    }
  }
  ::close(fd);
  return data;
}

// <16 hex digits>.<state>: the key, the packet id (0 for .q) and the PUBREL flag.
struct ParsedName {
  std::uint64_t key = 0;
  std::uint16_t packet_id = 0;
  bool released = false;
};
std::optional<ParsedName> parse_name(std::string_view name) {
  if (name.size() < 18 || name[16] != '.') return std::nullopt;
  ParsedName out;
  for (char c : name.substr(0, 16)) {
    const int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    out.key = out.key * 16 + static_cast<std::uint64_t>(digit);
  }
  const std::string_view state = name.substr(17);
  if (state == "q") return out;
  if (state.size() < 2 || (state[0] != 'p' && state[0] != 'r')) return std::nullopt;
  std::uint32_t id = 0;
  for (char c : state.substr(1)) {
    if (c < '0' || c > '9' || id > 65535) return std::nullopt;
    id = id * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (id == 0 || id > 65535) return std::nullopt;
  out.packet_id = static_cast<std::uint16_t>(id);
  out.released = state[0] == 'r';
  return out;
}

}  // namespace

std::string FileStore::escape(std::string_view client_id) {
  std::string out;
  for (char ch : client_id) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || (c == '.' && !out.empty())) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

std::string FileStore::file_name(std::uint64_t key, std::uint16_t packet_id, bool released) {
  char name[40];
  if (packet_id == 0)
    std::snprintf(name, sizeof name, "%016llx.q", static_cast<unsigned long long>(key));
  else
    std::snprintf(name, sizeof name, "%016llx.%c%u", static_cast<unsigned long long>(key),
                  released ? 'r' : 'p', static_cast<unsigned>(packet_id));
  return name;
}

std::size_t FileStore::charge(const Message& m) noexcept {
  std::size_t n = m.topic.size() + m.payload.size() + 64;
  const auto& p = m.properties;
  if (p.content_type) n += p.content_type->size();
  if (p.response_topic) n += p.response_topic->size();
  if (p.correlation_data) n += p.correlation_data->size();
  for (const auto& [name, value] : p.user_properties)
    n += name.size() + value.size() + 8;
  return n;
}

Expected<std::unique_ptr<FileStore>, std::string> FileStore::open(const FileStoreOptions& options,
                                                                  std::string_view client_id,
                                                                  Loaded& loaded) {
  if (client_id.empty())
    return unexpected(std::string("the file store needs a client id (ClientOptions::client_id)"));
  const std::string directory = (fs::path(options.directory) / escape(client_id)).string();
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) return unexpected("cannot create " + directory + ": " + ec.message());
  std::unique_ptr<FileStore> store(new FileStore(options, directory));
  std::uint64_t max_key = 0;
  for (auto it = fs::directory_iterator(directory, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string path = it->path().string();
    if (name.ends_with(".tmp")) {
      // A write the process did not finish: never acknowledged to the application as
      // stored, so it is dropped.
      fs::remove(it->path(), ec);
      ec.clear();
      continue;
    }
    if (name.ends_with(".corrupt")) continue;  // reported when it was found
    auto parsed = parse_name(name);
    if (!parsed) {
      loaded.problems.push_back(path + ": not a message file name; ignored");
      continue;
    }
    max_key = std::max(max_key, parsed->key);
    auto data = read_file(path, std::size_t{1} << 31);
    Expected<store::Record, std::string> record =
        data ? store::decode_record(*data)
             : Expected<store::Record, std::string>(unexpected(data.error()));
    if (!record) {
      // Skipped, never sent half-read; kept aside for whoever wants to look at it.
      std::error_code ignored;
      fs::rename(it->path(), path + ".corrupt", ignored);
      loaded.problems.push_back(path + ": " + record.error() + "; skipped (renamed to .corrupt)");
      continue;
    }
    store->bytes_ += charge(record->message);
    loaded.messages.push_back({parsed->key, std::move(record->message), parsed->packet_id,
                               parsed->released, record->queued_at});
  }
  if (ec) return unexpected("cannot list " + directory + ": " + ec.message());
  std::sort(loaded.messages.begin(), loaded.messages.end(),
            [](const Stored& a, const Stored& b) { return a.key < b.key; });
  store->next_key_ = max_key + 1;
  return store;
}

Expected<std::uint64_t, std::string> FileStore::add(const Message& message,
                                                    std::uint64_t queued_at) {
  const std::size_t size = charge(message);
  // Bounded (STYLE.md 7): reserve first, so concurrent callers cannot overshoot.
  const std::size_t before = bytes_.fetch_add(size, std::memory_order_relaxed);
  if (before + size > options_.max_bytes) {
    bytes_.fetch_sub(size, std::memory_order_relaxed);
    return unexpected("file store full (" + std::to_string(options_.max_bytes) + " bytes)");
  }
  const std::uint64_t key = next_key_.fetch_add(1, std::memory_order_relaxed);
  const std::string record = store::encode_record(message, queued_at);
  const std::string final_path = directory_ + "/" + file_name(key, 0, false);
  const std::string temp_path = final_path.substr(0, final_path.size() - 2) + ".tmp";
  auto fail = [&](std::string why) {
    ::unlink(temp_path.c_str());
    bytes_.fetch_sub(size, std::memory_order_relaxed);
    return unexpected(std::move(why));
  };
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(errno_text("cannot create", temp_path));
  std::size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::write(fd, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto why = errno_text("cannot write", temp_path);
      ::close(fd);
      return fail(std::move(why));
    }
    written += static_cast<std::size_t>(n);
  }
  if (options_.sync == FileStoreOptions::Sync::always && ::fsync(fd) != 0) {
    auto why = errno_text("cannot fsync", temp_path);
    ::close(fd);
    return fail(std::move(why));
  }
  ::close(fd);
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0)
    return fail(errno_text("cannot rename", temp_path));
  sync_directory();
  return key;
}

void FileStore::sync_directory() {
  if (options_.sync != FileStoreOptions::Sync::always) return;
  // A rename is durable only once its directory is (POSIX leaves it to fsync).
  const int fd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Expected<void, std::string> FileStore::rename(const std::string& from, const std::string& to) {
  const std::string a = directory_ + "/" + from;
  const std::string b = directory_ + "/" + to;
  if (::rename(a.c_str(), b.c_str()) != 0) return unexpected(errno_text("cannot rename", a));
  sync_directory();
  return {};
}

Expected<void, std::string> FileStore::sent(std::uint64_t key, std::uint16_t old_id,
                                            std::uint16_t new_id) {
  if (old_id == new_id) return {};
  return rename(file_name(key, old_id, false), file_name(key, new_id, false));
}

Expected<void, std::string> FileStore::released(std::uint64_t key, std::uint16_t packet_id) {
  return rename(file_name(key, packet_id, false), file_name(key, packet_id, true));
}

Expected<void, std::string> FileStore::remove(std::uint64_t key, std::uint16_t packet_id,
                                              bool released, std::size_t message_bytes) {
  bytes_.fetch_sub(std::min(message_bytes, bytes_.load(std::memory_order_relaxed)),
                   std::memory_order_relaxed);
  const std::string path = directory_ + "/" + file_name(key, packet_id, released);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return unexpected(errno_text("cannot remove", path));
  sync_directory();
  return {};
}

}  // namespace cicada::client
