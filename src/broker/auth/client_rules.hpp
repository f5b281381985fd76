// Parsing EMQX's per-client rule lists, shared by the HTTP answer's `acl` and the JWT
// `acl` claim. Two forms:
//  - EMQX 5 (emqx_authz_rule_raw): [{"permission": "allow"|"deny", "action":
//    "publish"|"pub"|"subscribe"|"sub"|"all", "topic": "t/${clientid}/#" or "eq t/#" (or
//    "topics": [...]), "qos": 0 | "0,1" | [0,1,2], "retain": true|false|0|1|"all"}]: checked
//    in order, the first match deciding, no match passing to the authorization chain
//  - EMQX 4's JWT form {"pub": [topics], "sub": [topics], "all": [topics]}: whitelists, so
//    the listed topics are allowed and everything else is denied; %c / %u are the client id
//    and user name.
// Thread-safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include <cicada/base/expected.hpp>

#include "broker/auth/client_auth.hpp"

namespace cicada::broker::auth {

// More rules than this in one answer or claim are refused (they are kept per client).
inline constexpr std::size_t max_client_rules = 1024;

// A bad rule is an error naming it ("acl[2].action: ..."): the answer that carries it is
// not trusted (the caller refuses the client rather than drop a deny rule).
Expected<std::vector<ClientRule>, std::string> parse_client_rules(const boost::json::value& value);

}  // namespace cicada::broker::auth
