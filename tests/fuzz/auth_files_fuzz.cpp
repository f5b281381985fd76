// libFuzzer target for the password-file and ACL-file parsers (src/broker/auth), which
// read operator-written text at start-up and on every SIGHUP.
//
// The whole input is parsed as a password file and as an ACL file; neither may crash,
// and an ACL that parses answers a few requests built from the input. Invariants tie the
// filter geometry together: a filter covers itself, covering implies intersecting, and
// intersecting is symmetric. Password hashes are only parsed, never verified: a valid
// line may ask for a million PBKDF2 iterations, which is the parser's bound, not a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <cicada/topic/topic.hpp>

#include "broker/auth/acl_file.hpp"
#include "broker/auth/password_file.hpp"

namespace {

namespace auth = cicada::broker::auth;
using cicada::broker::AccessRequest;
using cicada::broker::Action;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "auth_files_fuzz invariant violated: %s\n", what);
  std::abort();
}

// The first line of the input, if it is a valid non-shared filter.
std::string_view first_filter(std::string_view text) {
  const std::string_view line = text.substr(0, text.find('\n'));
  if (cicada::topic::validate_filter(line) != cicada::topic::TopicError::ok) return {};
  if (cicada::topic::parse_shared(line)) return {};
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)auth::PasswordFile::parse(text, "fuzz");
  auto acl = auth::AclFile::parse(text, "fuzz");

  const std::string_view filter = first_filter(text);
  if (!filter.empty()) {
    require(auth::filter_covers(filter, filter), "a filter covers itself");
    require(auth::filters_intersect(filter, filter), "a filter intersects itself");
    const std::string_view second =
        first_filter(text.substr(std::min(text.size(), filter.size() + 1)));
    if (!second.empty()) {
      const bool ab = auth::filters_intersect(filter, second);
      require(ab == auth::filters_intersect(second, filter), "intersection is symmetric");
      if (auth::filter_covers(filter, second)) require(ab, "covering implies intersecting");
    }
    if (acl) {
      for (const Action action : {Action::publish, Action::subscribe}) {
        AccessRequest request{.client_id = std::string(filter.substr(0, 8)),
                              .username = std::string(filter.substr(0, 5)),
                              .topic = std::string(filter),
                              .action = action,
                              .qos = 1,
                              .retain = false};
        if (action == Action::publish && cicada::topic::has_wildcard(filter)) continue;
        (void)acl->check(request);
        request.username.reset();
        (void)acl->check(request);
      }
    }
  }
  return 0;
}
