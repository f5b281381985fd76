// SessionHandle: the part of a session that other threads may see. The subscription
// trie refers to sessions by handle id; the router reads `worker` to know which
// worker owns the session right now (it changes when a client reconnects on another
// worker and its session moves there).
// Thread-safety: `worker` is atomic; client_id and id are immutable; `takeovers` is
// the router's, guarded by its registry mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace cicada::broker {

struct SessionHandle : std::enable_shared_from_this<SessionHandle> {
  SessionHandle(std::string id_of_client, std::uint32_t owner)
      : client_id(std::move(id_of_client)), worker(owner) {}

  // The id the subscription trie stores: the handle's address, stable for its life.
  std::uint64_t id() const noexcept { return reinterpret_cast<std::uintptr_t>(this); }
  static SessionHandle* from_id(std::uint64_t id) noexcept {
    return reinterpret_cast<SessionHandle*>(static_cast<std::uintptr_t>(id));
  }

  const std::string client_id;
  std::atomic<std::uint32_t> worker;
  // Claims of this session by new connections not yet finished (Router::claim): it
  // is not released from the registry meanwhile. Here rather than in the registry's
  // node, where it fits in the handle's padding (docs/performance.md, idle memory).
  int takeovers = 0;
};

using SessionHandlePtr = std::shared_ptr<SessionHandle>;

}  // namespace cicada::broker
