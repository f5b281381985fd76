#include "broker/auth/client_rules.hpp"

#include <boost/json.hpp>
#include <string_view>

#include <cicada/topic/topic.hpp>

#include "broker/auth/acl_file.hpp"

namespace cicada::broker {
namespace {

namespace json = boost::json;

// ${clientid} and ${username} in a rule's topic. A rule naming the user name does not apply
// to a client without one, and a value holding a wildcard would widen the rule: neither
// applies (as in the ACL file's %c / %u).
bool render(std::string_view pattern, const AccessRequest& request, std::string& out) {
  out.clear();
  while (!pattern.empty()) {
    const auto open = pattern.find("${");
    out += pattern.substr(0, open);
    if (open == std::string_view::npos) break;
    pattern.remove_prefix(open);
    std::string_view value;
    if (pattern.starts_with("${clientid}")) {
      value = request.client_id;
      pattern.remove_prefix(11);
    } else if (pattern.starts_with("${username}")) {
      if (!request.username) return false;
      value = *request.username;
      pattern.remove_prefix(11);
    } else {
      return false;  // refused at parse time; never here
    }
    if (value.find_first_of("+#") != std::string_view::npos) return false;
    out += value;
  }
  return true;
}

bool applies(const ClientRule& rule, std::string_view filter, const AccessRequest& request) {
  if (rule.exact) return filter == request.topic;
  if (request.action == Action::publish) return topic::matches(filter, request.topic);
  // SUBSCRIBE asks about a filter: a deny rule touches it when they share any topic, an
  // allow rule must cover all of it (as in the ACL file).
  return rule.allow ? auth::filter_covers(filter, request.topic)
                    : auth::filters_intersect(filter, request.topic);
}

}  // namespace

auth::Verdict ClientAuth::check(const AccessRequest& request) const {
  const auto action =
      static_cast<std::uint8_t>(request.action == Action::publish ? ClientRule::Actions::publish
                                                                  : ClientRule::Actions::subscribe);
  if (rules.empty()) return auth::Verdict::ignore;
  if (rules_expire_at && unix_seconds_now() > *rules_expire_at) return auth::Verdict::deny;
  std::string filter;
  for (const ClientRule& rule : rules) {
    if ((static_cast<std::uint8_t>(rule.actions) & action) == 0) continue;
    if (request.qos > 2 || (rule.qos_mask & (1U << request.qos)) == 0) continue;
    if (rule.retain && request.action == Action::publish && *rule.retain != request.retain) {
      continue;
    }
    if (!render(rule.topic, request, filter)) continue;
    if (applies(rule, filter, request))
      return rule.allow ? auth::Verdict::allow : auth::Verdict::deny;
  }
  return auth::Verdict::ignore;
}

namespace auth {
namespace {

// The topic of a rule: "eq " marks a literal; otherwise a valid filter once the
// placeholders are filled in.
Expected<void, std::string> set_topic(ClientRule& rule, std::string_view text) {
  if (text.starts_with("eq ")) {
    rule.exact = true;
    text.remove_prefix(3);
  }
  if (text.empty()) return unexpected(std::string("empty topic"));
  std::string probe;
  for (std::string_view rest = text; !rest.empty();) {
    const auto open = rest.find("${");
    probe += rest.substr(0, open);
    if (open == std::string_view::npos) break;
    rest.remove_prefix(open);
    if (rest.starts_with("${clientid}") || rest.starts_with("${username}")) {
      probe += 'x';
      rest.remove_prefix(11);
    } else {
      return unexpected("unknown placeholder in \"" + std::string(text) +
                        "\" (only ${clientid} and ${username})");
    }
  }
  if (!rule.exact && topic::validate_filter(probe) != topic::TopicError::ok) {
    return unexpected("\"" + std::string(text) + "\" is not a topic filter");
  }
  rule.topic = std::string(text);
  return {};
}

// EMQX's emqx_authz_rule_raw accepts a QoS as 0, "0", "0,1" or a list of those.
Expected<std::uint8_t, std::string> parse_qos(const json::value& value) {
  const auto level = [](const json::value& one) -> int {
    if (one.is_int64() && one.get_int64() >= 0 && one.get_int64() <= 2) {
      return static_cast<int>(one.get_int64());
    }
    if (one.is_string() && one.get_string().size() == 1 && one.get_string()[0] >= '0' &&
        one.get_string()[0] <= '2') {
      return one.get_string()[0] - '0';
    }
    return -1;
  };
  const auto error = [] {
    return unexpected(std::string("qos: 0, 1, 2 or a list of them expected"));
  };
  if (value.is_null()) return std::uint8_t{0b111};
  std::uint8_t mask = 0;
  if (value.is_string()) {
    std::string_view text = value.get_string();
    while (true) {
      const auto comma = text.find(',');
      const int qos = level(json::value(text.substr(0, comma)));
      if (qos < 0) return error();
      mask |= static_cast<std::uint8_t>(1U << qos);
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
    return mask;
  }
  if (value.is_array()) {
    for (const json::value& one : value.get_array()) {
      const int qos = level(one);
      if (qos < 0) return error();
      mask |= static_cast<std::uint8_t>(1U << qos);
    }
    return mask;
  }
  const int qos = level(value);
  if (qos < 0) return error();
  return static_cast<std::uint8_t>(1U << qos);
}

// true / false / 1 / 0 / "true" / "false" / "1" / "0"; "all" or null: either.
Expected<std::optional<bool>, std::string> parse_retain(const json::value& value) {
  if (value.is_bool()) return std::optional<bool>(value.get_bool());
  if (value.is_int64() && (value.get_int64() == 0 || value.get_int64() == 1)) {
    return std::optional<bool>(value.get_int64() == 1);
  }
  if (value.is_null()) return std::optional<bool>();
  if (value.is_string()) {
    const std::string_view text = value.get_string();
    if (text == "true" || text == "1") return std::optional<bool>(true);
    if (text == "false" || text == "0") return std::optional<bool>(false);
    if (text == "all") return std::optional<bool>();
  }
  return unexpected(std::string("retain: true, false or \"all\" expected"));
}

// One raw rule; with "topics" (a list) it becomes one rule per topic, in order, which
// decides the same as EMQX's single rule over the list (first match wins either way).
Expected<void, std::string> parse_rule(const json::value& value, std::vector<ClientRule>& out) {
  if (!value.is_object()) return unexpected(std::string("not an object"));
  const json::object& object = value.get_object();
  ClientRule rule;
  const auto* permission = object.if_contains("permission");
  if (permission == nullptr || !permission->is_string() ||
      (permission->get_string() != "allow" && permission->get_string() != "deny")) {
    return unexpected(std::string("permission: \"allow\" or \"deny\" expected"));
  }
  rule.allow = permission->get_string() == "allow";
  const auto* action = object.if_contains("action");
  const std::string_view action_text =
      action != nullptr && action->is_string() ? std::string_view(action->get_string()) : "";
  if (action_text == "publish" || action_text == "pub") {
    rule.actions = ClientRule::Actions::publish;
  } else if (action_text == "subscribe" || action_text == "sub") {
    rule.actions = ClientRule::Actions::subscribe;
  } else if (action_text == "all") {
    rule.actions = ClientRule::Actions::all;
  } else {
    return unexpected(std::string("action: \"publish\", \"subscribe\" or \"all\" expected"));
  }
  if (const auto* qos = object.if_contains("qos")) {
    auto mask = parse_qos(*qos);
    if (!mask) return unexpected(mask.error());
    rule.qos_mask = *mask;
  }
  if (const auto* retain = object.if_contains("retain")) {
    auto flag = parse_retain(*retain);
    if (!flag) return unexpected(flag.error());
    rule.retain = *flag;
  }
  std::vector<std::string_view> topics;
  if (const auto* topic = object.if_contains("topic"); topic != nullptr && topic->is_string()) {
    topics.emplace_back(topic->get_string());
  } else if (const auto* list = object.if_contains("topics"); list != nullptr && list->is_array()) {
    for (const json::value& one : list->get_array()) {
      if (!one.is_string()) return unexpected(std::string("topics: strings expected"));
      topics.emplace_back(one.get_string());
    }
  } else {
    return unexpected(std::string("topic: a string (or topics: a list) expected"));
  }
  for (const std::string_view text : topics) {
    ClientRule one = rule;
    if (auto set = set_topic(one, text); !set) return unexpected("topic: " + set.error());
    out.push_back(std::move(one));
  }
  return {};
}

// EMQX 4's %c / %u in the old form's topics.
std::string old_placeholders(std::string_view topic) {
  std::string out;
  for (std::size_t i = 0; i < topic.size(); ++i) {
    if (topic[i] == '%' && i + 1 < topic.size() && (topic[i + 1] == 'c' || topic[i + 1] == 'u')) {
      out += topic[i + 1] == 'c' ? "${clientid}" : "${username}";
      ++i;
    } else {
      out += topic[i];
    }
  }
  return out;
}

Expected<std::vector<ClientRule>, std::string> parse_old_form(const json::object& object) {
  std::vector<ClientRule> rules;
  for (const auto& [key, list] : object) {
    ClientRule::Actions actions;
    if (key == "pub") {
      actions = ClientRule::Actions::publish;
    } else if (key == "sub") {
      actions = ClientRule::Actions::subscribe;
    } else if (key == "all") {
      actions = ClientRule::Actions::all;
    } else {
      return unexpected("acl." + std::string(key) + ": \"pub\", \"sub\" or \"all\" expected");
    }
    if (!list.is_array()) return unexpected("acl." + std::string(key) + ": a list expected");
    for (const json::value& topic : list.get_array()) {
      if (!topic.is_string()) return unexpected("acl." + std::string(key) + ": topics expected");
      ClientRule rule{.allow = true, .actions = actions};
      if (auto set = set_topic(rule, old_placeholders(topic.get_string())); !set) {
        return unexpected("acl." + std::string(key) + ": " + set.error());
      }
      rules.push_back(std::move(rule));
    }
  }
  // Whitelists: what they do not list is denied (EMQX 4.4 "JWT ACL").
  rules.push_back(ClientRule{.allow = false, .actions = ClientRule::Actions::all, .topic = "#"});
  return rules;
}

}  // namespace

Expected<std::vector<ClientRule>, std::string> parse_client_rules(const json::value& value) {
  auto rules = [&]() -> Expected<std::vector<ClientRule>, std::string> {
    if (value.is_object()) return parse_old_form(value.get_object());
    if (!value.is_array()) return unexpected(std::string("acl: a list of rules expected"));
    std::vector<ClientRule> list;
    std::size_t index = 0;
    for (const json::value& entry : value.get_array()) {
      if (auto rule = parse_rule(entry, list); !rule) {
        return unexpected("acl[" + std::to_string(index) + "]." + rule.error());
      }
      ++index;
    }
    return list;
  }();
  // One claim or answer holds few rules; a huge list is refused rather than kept per client.
  if (rules && rules->size() > max_client_rules) {
    return unexpected("acl: more than " + std::to_string(max_client_rules) + " rules");
  }
  return rules;
}

}  // namespace auth
}  // namespace cicada::broker
