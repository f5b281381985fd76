#include "broker/auth/acl_file.hpp"

#include <cicada/topic/topic.hpp>

#include "broker/auth/text_lines.hpp"

namespace cicada::broker::auth {
namespace {

// The next '/'-separated level of `rest`, consuming it; `done` once the last was taken.
struct Levels {
  std::string_view rest;
  bool done = false;
  std::string_view next() {
    const auto slash = rest.find('/');
    const std::string_view level = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
      done = true;
    } else {
      rest.remove_prefix(slash + 1);
    }
    return level;
  }
};

bool dollar(std::string_view text) {
  return !text.empty() && text.front() == '$';
}

std::optional<AclAccess> parse_access(std::string_view word) {
  if (word == "read") return AclAccess::read;
  if (word == "write") return AclAccess::write;
  if (word == "readwrite") return AclAccess::readwrite;
  if (word == "deny") return AclAccess::deny;
  return std::nullopt;
}

bool grants(AclAccess access, Action action) {
  const auto bits = static_cast<std::uint8_t>(access);
  return action == Action::publish ? (bits & static_cast<std::uint8_t>(AclAccess::write)) != 0
                                   : (bits & static_cast<std::uint8_t>(AclAccess::read)) != 0;
}

// Whether the line `filter` applies to the request's topic: for PUBLISH, the filter matches
// the topic; for SUBSCRIBE, a deny line touches any topic of the requested filter and a
// granting line covers all of them. A topic starting with '$' only meets lines that do.
bool applies(AclAccess access, std::string_view filter, Action action, std::string_view subject) {
  if (dollar(subject) != dollar(filter)) return false;
  if (action == Action::publish) return topic::matches(filter, subject);
  return access == AclAccess::deny ? filters_intersect(filter, subject)
                                   : filter_covers(filter, subject);
}

enum class Substituted { ok, not_applicable, unsafe };

// %c and %u of a pattern line.
Substituted substitute(std::string_view pattern, const AccessRequest& request, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() &&
        (pattern[i + 1] == 'c' || pattern[i + 1] == 'u')) {
      std::string_view value;
      if (pattern[i + 1] == 'c') {
        value = request.client_id;
      } else {
        if (!request.username) return Substituted::not_applicable;
        value = *request.username;
      }
      if (value.find_first_of("+#") != std::string_view::npos) return Substituted::unsafe;
      out += value;
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return Substituted::ok;
}

}  // namespace

bool filters_intersect(std::string_view a, std::string_view b) noexcept {
  if (dollar(a) != dollar(b)) return false;
  Levels x{a}, y{b};
  while (!x.done && !y.done) {
    const auto p = x.next(), q = y.next();
    if (p == "#" || q == "#") return true;
    if (p != "+" && q != "+" && p != q) return false;
  }
  if (x.done && y.done) return true;
  // "a/#" also matches "a".
  Levels& longer = x.done ? y : x;
  return longer.next() == "#" && longer.done;
}

bool filter_covers(std::string_view outer, std::string_view inner) noexcept {
  if (dollar(outer) != dollar(inner)) return false;
  Levels o{outer}, i{inner};
  while (!i.done) {
    if (o.done) return false;
    const auto p = o.next(), q = i.next();
    if (p == "#") return true;
    if (q == "#") return false;
    if (p != "+" && p != q) return false;  // a literal covers only itself, not '+'
  }
  if (o.done) return true;
  return o.next() == "#" && o.done;
}

Expected<AclFile, std::string> AclFile::load(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return unexpected(text.error());
  return parse(*text, path);
}

Expected<AclFile, std::string> AclFile::parse(std::string_view text, std::string_view name) {
  AclFile file;
  std::vector<AclEntry>* current = &file.anonymous_;
  const std::string error =
      for_each_line(text, [&](std::size_t number, std::string_view raw) -> std::string {
        const auto where = std::string(name) + ":" + std::to_string(number) + ": ";
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') return {};
        const auto space = line.find_first_of(" \t");
        const std::string_view keyword = line.substr(0, space);
        const std::string_view rest =
            space == std::string_view::npos ? std::string_view{} : trim(line.substr(space));
        if (keyword == "user") {
          if (rest.empty()) return where + "expected `user NAME`";
          current = &file.users_[std::string(rest)];
          return {};
        }
        if (keyword != "topic" && keyword != "pattern") {
          return where + "expected a line starting with user, topic or pattern, got " +
                 std::string(keyword);
        }
        AclEntry entry;
        std::string_view filter = rest;
        const auto gap = rest.find_first_of(" \t");
        if (gap != std::string_view::npos) {
          const auto access = parse_access(rest.substr(0, gap));
          if (!access) {
            return where + "expected read, write, readwrite or deny before a filter with spaces";
          }
          entry.access = *access;
          filter = trim(rest.substr(gap));
        } else if (parse_access(rest)) {
          return where + "expected a topic filter after " + std::string(rest);
        }
        if (filter.empty())
          return where + "expected `" + std::string(keyword) + " [ACCESS] FILTER`";
        if (const auto e = topic::validate_filter(filter); e != topic::TopicError::ok) {
          return where + "invalid topic filter " + std::string(filter) + ": " +
                 std::string(topic::to_string(e));
        }
        if (topic::parse_shared(filter)) {
          return where + "a $share/ filter cannot be an ACL line; write the plain filter";
        }
        entry.filter = std::string(filter);
        (keyword == "pattern" ? file.patterns_ : *current).push_back(std::move(entry));
        return {};
      });
  if (!error.empty()) return unexpected(error);
  return file;
}

std::size_t AclFile::rule_count() const noexcept {
  std::size_t count = anonymous_.size() + patterns_.size();
  for (const auto& [user, entries] : users_)
    count += entries.size();
  return count;
}

Verdict AclFile::check(const AccessRequest& request) const {
  std::string_view subject = request.topic;
  if (request.action == Action::subscribe) {
    // A shared subscription is authorized by the filter inside it.
    if (const auto shared = topic::parse_shared(subject)) subject = shared->filter;
  }
  const std::vector<AclEntry>* own = &anonymous_;
  static const std::vector<AclEntry> kNone;
  if (request.username) {
    const auto it = users_.find(*request.username);
    own = it == users_.end() ? &kNone : &it->second;
  }
  // Deny lines first, then granting lines (Mosquitto's order).
  std::string substituted;
  for (const bool deny_pass : {true, false}) {
    for (const AclEntry& entry : *own) {
      if ((entry.access == AclAccess::deny) != deny_pass) continue;
      if (!applies(entry.access, entry.filter, request.action, subject)) continue;
      if (deny_pass) return Verdict::deny;
      if (grants(entry.access, request.action)) return Verdict::allow;
    }
    for (const AclEntry& entry : patterns_) {
      if ((entry.access == AclAccess::deny) != deny_pass) continue;
      switch (substitute(entry.filter, request, substituted)) {
        case Substituted::not_applicable:
          continue;
        case Substituted::unsafe:
          return Verdict::deny;
        case Substituted::ok:
          break;
      }
      if (!applies(entry.access, substituted, request.action, subject)) continue;
      if (deny_pass) return Verdict::deny;
      if (grants(entry.access, request.action)) return Verdict::allow;
    }
  }
  return Verdict::ignore;
}

}  // namespace cicada::broker::auth
