// Builds the broker's AuthHooks from the configuration. Authentication: the password file,
// then the HTTP service (auth.http), each if configured. Authorization: the ACL file, then the
// HTTP service (authorization.http). The order is fixed; files come first because they answer
// without I/O. Also the listeners' allow_anonymous and authorization.no_match. Both HTTP steps
// share one HTTP thread, started only when one is configured.
// Thread-safety: call once at start-up.
#pragma once

#include <memory>

#include "broker/auth/chain.hpp"
#include "broker/config/config.hpp"

namespace cicada::broker::auth {

// Reads the files; throws ConfigError "<file>:<line>: <what>" when one is missing or bad, or
// "auth.http.url: ..." when an HTTP setting is.
std::unique_ptr<AuthChain> chain_from_config(const Config& config);

}  // namespace cicada::broker::auth
