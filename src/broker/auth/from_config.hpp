// Builds the broker's AuthHooks from the configuration: one step per enabled entry of
// config.authentication and config.authorization_sources, in their order, plus the
// listeners' allow_anonymous and authenticators lists and authorization.no_match. Every HTTP
// step shares one HTTP thread, started only when one is configured.
// Thread-safety: call once at start-up.
#pragma once

#include <memory>

#include "broker/auth/chain.hpp"
#include "broker/config/config.hpp"

namespace cicada::broker::auth {

// Reads the files; throws ConfigError "<where>: <step>.<key>: <what>" ("cicada.toml:12:
// authentication[2].url: ...", "auth.password_file.path: <file>:<line>: ...") when a
// setting or a file is bad.
std::unique_ptr<AuthChain> chain_from_config(const Config& config);

}  // namespace cicada::broker::auth
