// Parsing EMQX's per-client rule lists, shared by the HTTP answer's `acl` and the JWT
// `acl` claim. Two forms:
//  - EMQX 5.8: [{"permission": "allow"|"deny", "action": "publish"|"subscribe"|"all",
//    "topic": "t/${clientid}/#" or "eq t/#", "qos": [0,1,2], "retain": true|false|"all"}]
//  - EMQX 4's JWT form {"pub": [topics], "sub": [topics], "all": [topics]}: whitelists, so
//    the listed topics are allowed and everything else is denied; %c / %u are the client id
//    and user name.
// Thread-safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include <cicada/base/expected.hpp>

#include "broker/auth/client_auth.hpp"

namespace cicada::broker::auth {

// A bad rule is an error naming it ("acl[2].action: ..."): the answer that carries it is
// not trusted (the caller refuses the client rather than drop a deny rule).
Expected<std::vector<ClientRule>, std::string> parse_client_rules(const boost::json::value& value);

}  // namespace cicada::broker::auth
