// An ACL file in Mosquitto's syntax:
//   # comment
//   topic [read|write|readwrite|deny] FILTER     lines before any `user` line: anonymous clients
//   user NAME                                   the `topic` lines below it are NAME's
//   pattern [read|write|readwrite|deny] FILTER   every client; %c = client id, %u = user name
// The access word is optional (readwrite); FILTER is the rest of the line and may hold
// spaces only after an access word, as in Mosquitto.
//
// Answering a request, from the lines that apply to the client (its user's or the
// anonymous `topic` lines, and every `pattern`):
//   - deny first: a `deny` line whose filter matches the PUBLISH topic, or could match any
//     topic the SUBSCRIBE filter matches, denies (Mosquitto checks deny lines first);
//   - then a granting line allows: `write`/`readwrite` whose filter matches the PUBLISH
//     topic, `read`/`readwrite` whose filter covers every topic of the SUBSCRIBE filter;
//   - otherwise ignore: the next authorization source, or authorization.no_match, decides.
//     (Mosquitto itself denies there: set no_match = "deny" for its behaviour.)
// A pattern whose %c or %u would bring a '+' or '#' into the filter denies, as in Mosquitto,
// so that a client id cannot widen its own grant; a %u pattern does not apply to clients
// without a user name.
// Thread-safety: immutable once loaded; any thread may call check().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/base/expected.hpp>

#include "broker/auth/hooks.hpp"
#include "broker/auth/verdict.hpp"

namespace cicada::broker::auth {

enum class AclAccess : std::uint8_t { read = 1, write = 2, readwrite = 3, deny = 4 };

struct AclEntry {
  AclAccess access = AclAccess::readwrite;
  std::string filter;
};

class AclFile {
 public:
  // Reads and checks the whole file; the error is "<path>:<line>: <what>".
  static Expected<AclFile, std::string> load(const std::string& path);
  static Expected<AclFile, std::string> parse(std::string_view text, std::string_view name);

  // `client_id`, `username` and `action` of the request; `topic` is the PUBLISH topic or the
  // SUBSCRIBE filter ($share/GROUP/ removed by the caller or here).
  Verdict check(const AccessRequest& request) const;

  std::size_t rule_count() const noexcept;

 private:
  std::vector<AclEntry> anonymous_;
  std::map<std::string, std::vector<AclEntry>, std::less<>> users_;
  std::vector<AclEntry> patterns_;
};

// Whether some topic name is matched by both filters (both valid, non-shared).
bool filters_intersect(std::string_view a, std::string_view b) noexcept;
// Whether every topic `inner` matches is also matched by `outer`.
bool filter_covers(std::string_view outer, std::string_view inner) noexcept;

}  // namespace cicada::broker::auth
