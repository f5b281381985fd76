// FileStore: the client's optional persistence of outgoing QoS 1/2 messages, one file
// per message in <directory>/<client id>/, so messages queued or in flight survive a
// restart (or a crash) of the client process.
//
// A message's file is named by a 64-bit sequence number (hex, so names sort in
// publish order) and its state, which changes by rename, never by rewriting:
//   <seq>.q          accepted, not yet sent (no packet id)
//   <seq>.p<id>      sent as PUBLISH with packet id <id>, not yet acknowledged
//   <seq>.r<id>      QoS 2: PUBREC received, PUBREL sent (waiting for PUBCOMP)
// New files are written as <seq>.tmp and renamed, so a crash mid-write leaves a .tmp
// (deleted on open), never a half-written .q. Each file also keeps the time it was
// first queued, so Message Expiry counts across restarts. A file that still does not decode
// (cut short by a power loss, damaged) is renamed to <name>.corrupt and reported.
//
// Thread-safety: add() may be called from any thread at the same time as the others
// (it touches only its own new file and atomic counters); open() before the client's
// threads use the store; every other member on the client's I/O thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/base/expected.hpp>
#include <cicada/client/options.hpp>
#include <cicada/client/types.hpp>

namespace cicada::client {

class FileStore {
 public:
  struct Stored {
    std::uint64_t key = 0;
    Message message;
    std::uint16_t packet_id = 0;  // 0: queued, not yet sent
    bool released = false;        // QoS 2 PUBREL state
    // Unix seconds when publish() accepted it (see store_record.hpp); nullopt for a
    // file from before the time was kept.
    std::optional<std::uint64_t> queued_at;
  };
  struct Loaded {
    std::vector<Stored> messages;       // in publish order
    std::vector<std::string> problems;  // one line per file skipped
  };

  // Creates <options.directory>/<client id> if needed and loads what it holds.
  static Expected<std::unique_ptr<FileStore>, std::string> open(const FileStoreOptions& options,
                                                                std::string_view client_id,
                                                                Loaded& loaded);

  // Writes a new message file, stamped with `queued_at` (unix seconds, the caller's
  // wall clock); its key, or why it could not (disk error, max_bytes).
  Expected<std::uint64_t, std::string> add(const Message& message, std::uint64_t queued_at);
  // State changes; failures are returned, the message stays sent from memory.
  Expected<void, std::string> sent(std::uint64_t key, std::uint16_t old_id, std::uint16_t new_id);
  Expected<void, std::string> released(std::uint64_t key, std::uint16_t packet_id);
  Expected<void, std::string> remove(std::uint64_t key, std::uint16_t packet_id, bool released,
                                     std::size_t message_bytes);

  const std::string& directory() const noexcept { return directory_; }
  std::size_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  // The size add() charges against max_bytes for a message.
  static std::size_t charge(const Message& message) noexcept;

  // "a/b" -> "a%2Fb": a client id as one safe directory name.
  static std::string escape(std::string_view client_id);
  static std::string file_name(std::uint64_t key, std::uint16_t packet_id, bool released);

 private:
  FileStore(FileStoreOptions options, std::string directory)
      : options_(std::move(options)), directory_(std::move(directory)) {}
  Expected<void, std::string> rename(const std::string& from, const std::string& to);
  void sync_directory();

  FileStoreOptions options_;
  std::string directory_;
  std::atomic<std::uint64_t> next_key_{1};
  std::atomic<std::size_t> bytes_{0};
};

}  // namespace cicada::client
