// Builds the broker's AuthHooks from the configuration: the password file (if any) as the
// authentication chain's step, the ACL file (if any) as the authorization chain's, the
// listeners' allow_anonymous and authorization.no_match.
// Thread-safety: call once at start-up.
#pragma once

#include <memory>

#include "broker/auth/chain.hpp"
#include "broker/config/config.hpp"

namespace cicada::broker::auth {

// Reads the files; throws ConfigError "<file>:<line>: <what>" when one is missing or bad.
std::unique_ptr<AuthChain> chain_from_config(const Config& config);

}  // namespace cicada::broker::auth
