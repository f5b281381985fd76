// What one client's authentication answer grants it beyond allow: its own authorization
// rules (EMQX 5.8's `acl` in the HTTP answer or a JWT claim) and the time its
// authentication expires (`expire_at`, a JWT's `exp`). Rules are asked before the
// authorization chain, in order, the first match deciding; no match falls through to the
// chain. The connection holds it for its life.
// Thread-safety: immutable once built; shared by the connection and the requests it makes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/auth/hooks.hpp"
#include "broker/auth/verdict.hpp"

namespace cicada::broker {

// The node's wall clock in Unix seconds, the time base of expire_at, exp and nbf.
inline std::int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ClientRule {
  enum class Actions : std::uint8_t { publish = 1, subscribe = 2, all = 3 };
  bool allow = false;
  Actions actions = Actions::all;
  // A topic filter, or with `exact` a literal string (EMQX's "eq " prefix) that the topic
  // or filter must equal, wildcards included. May hold ${clientid} / ${username}.
  std::string topic;
  bool exact = false;
  std::uint8_t qos_mask = 0b111;  // bit n: QoS n applies
  std::optional<bool> retain;     // publish only; empty: either
};

struct ClientAuth {
  std::vector<ClientRule> rules;
  std::optional<std::int64_t> expire_at;  // Unix seconds; the client is disconnected then
  // Unix seconds after which the rules deny everything (a JWT's `exp`, also when the
  // client stays connected: EMQX's emqx_authz_client_info answers deny once it passed).
  std::optional<std::int64_t> rules_expire_at;

  // allow / deny from the first matching rule, ignore when none matches. Defined with the
  // auth library (client_rules.cpp).
  auth::Verdict check(const AccessRequest& request) const;
};

}  // namespace cicada::broker
