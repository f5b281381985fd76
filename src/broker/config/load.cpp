// load_config: built-in defaults < TOML file < CICADA_* environment < command line.
// This file finds which option each key names (or says which it might have meant);
// convert.cpp checks the value against that option's row.
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/config/convert.hpp"
#include "broker/config/options.hpp"

namespace cicada::broker {
namespace {

using config::fail;
using config::from_text;
using config::ListenerOption;
using config::Option;
using config::OptionSpec;
using config::OptionType;
using config::OptionValue;
using config::Written;

// CICADA_* variables that are not configuration: read by the example programs and tools,
// so a shell that exports them for those can still start the broker.
constexpr std::array<std::string_view, 2> kNotConfiguration{"CICADA_URL", "CICADA_CLIENT_ID"};
constexpr std::string_view kEnvironmentPrefix = "CICADA_";
constexpr std::string_view kTcpListeners = "listeners.tcp.";
constexpr std::string_view kDefaultListener = "default";

// The [listeners.KIND.NAME] kinds, in the order of ListenerKind.
struct KindName {
  ListenerKind kind;
  std::string_view name;
  std::string_view prefix;  // "listeners.ssl."
};
constexpr std::array<KindName, 4> kListenerKinds{{
    {ListenerKind::tcp, "tcp", "listeners.tcp."},
    {ListenerKind::ssl, "ssl", "listeners.ssl."},
    {ListenerKind::ws, "ws", "listeners.ws."},
    {ListenerKind::wss, "wss", "listeners.wss."},
}};

const KindName* kind_named(std::string_view name) {
  for (const KindName& k : kListenerKinds) {
    if (k.name == name) return &k;
  }
  return nullptr;
}
const KindName& kind_of(ListenerKind kind) {
  return kListenerKinds[static_cast<std::size_t>(kind)];
}
// The kind whose prefix `key` starts with, if any.
const KindName* kind_of_key(std::string_view key) {
  for (const KindName& k : kListenerKinds) {
    if (key.starts_with(k.prefix)) return &k;
  }
  return nullptr;
}

// The single-step sections: [auth.BACKEND] and [authorization.acl_file|http].
constexpr std::array<AuthBackend, 3> kAuthBackends{AuthBackend::password_file, AuthBackend::jwt,
                                                   AuthBackend::http};
constexpr std::array<AuthzType, 2> kAuthzTypes{AuthzType::file, AuthzType::http};
std::string section_of(AuthBackend backend) {
  return std::string("auth.") + auth_backend_name(backend);
}
std::string section_of(AuthzType type) {
  return type == AuthzType::file ? "authorization.acl_file" : "authorization.http";
}

template <class Spec>
const Spec* find_row(std::span<const Spec> rows, std::string_view key) {
  for (const Spec& row : rows) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

// The row of `key` in an authenticator of `backend` (or a source of `type`), common keys
// (name, enable) included when `with_common`.
const config::AuthenticatorOption* entry_row(AuthBackend backend, std::string_view key,
                                             bool with_common) {
  if (const auto* o = find_row(config::authenticator_options(backend), key)) return o;
  return with_common ? find_row(config::authenticator_common_options(), key) : nullptr;
}
const config::AuthorizationSourceOption* entry_row(AuthzType type, std::string_view key,
                                                   bool with_common) {
  if (const auto* o = find_row(config::authorization_source_options(type), key)) return o;
  return with_common ? find_row(config::authorization_source_common_options(), key) : nullptr;
}

enum class Source { file, environment, command_line };

Written from_toml(const toml::node& node) {
  Written w;
  if (const auto* b = node.as_boolean()) {
    w.kind = Written::Kind::boolean;
    w.boolean = b->get();
  } else if (const auto* i = node.as_integer()) {
    w.kind = Written::Kind::integer;
    w.integer = i->get();
  } else if (const auto* s = node.as_string()) {
    w.kind = Written::Kind::text;
    w.text = s->get();
  } else if (const auto* f = node.as_floating_point()) {
    std::ostringstream out;
    out << *f;
    w.text = out.str();
  } else if (node.is_table()) {
    w.text = "a table";
  } else if (const auto* array = node.as_array()) {
    w.text = "an array";
    if (array->is_homogeneous(toml::node_type::string) || array->empty()) {
      w.kind = Written::Kind::list;
      for (const toml::node& item : *array)
        w.items.push_back(item.as_string()->get());
    }
  } else {
    w.text = "a date or time";
  }
  return w;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view leaf(std::string_view key) {
  const auto dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// The known key closest to an unknown one: the option of the same name in another section
// (`max_inflight` -> `mqtt.max_inflight`, EMQX's `retainer.backend.max_retained_messages`
// -> `retainer.max_retained_messages`), else the nearest by edit distance when near enough.
std::optional<std::string> suggest(std::string_view key, bool with_sections) {
  std::vector<std::string> candidates;
  for (const Option& o : config::options())
    candidates.emplace_back(o.key);
  const KindName* kind = kind_of_key(key);
  std::string listener_prefix(kind != nullptr ? kind->prefix : kTcpListeners);
  if (kind != nullptr) {
    const auto rest = key.substr(kind->prefix.size());
    const auto dot = rest.find('.');
    if (dot != std::string_view::npos) listener_prefix += std::string(rest.substr(0, dot + 1));
  }
  for (const ListenerOption& o : config::listener_options()) {
    candidates.push_back(listener_prefix + std::string(o.key));
  }
  if (kind != nullptr) {
    for (const ListenerOption* o : config::kind_listener_options(kind->kind)) {
      candidates.push_back(listener_prefix + std::string(o->key));
    }
  }
  for (const AuthBackend backend : kAuthBackends) {
    for (const config::AuthenticatorOption& o : config::authenticator_options(backend)) {
      candidates.push_back(section_of(backend) + "." + std::string(o.key));
    }
  }
  for (const AuthzType type : kAuthzTypes) {
    for (const config::AuthorizationSourceOption& o : config::authorization_source_options(type)) {
      candidates.push_back(section_of(type) + "." + std::string(o.key));
    }
  }
  if (with_sections) {
    for (std::string_view section :
         {"listeners", "listeners.tcp", "listeners.ssl", "listeners.ws", "listeners.wss", "mqtt",
          "retainer", "sys_topics", "auth", "authorization", "auth.password_file", "auth.jwt",
          "auth.http", "authorization.acl_file", "authorization.http", "authorization.sources",
          "authentication", "node", "log"}) {
      candidates.emplace_back(section);
    }
  }
  for (const std::string& candidate : candidates) {
    if (leaf(candidate) == leaf(key) && candidate != key) return candidate;
  }
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(key, candidate);
    if (best == nullptr || distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  if (best != nullptr && best_distance <= std::max<std::size_t>(2, key.size() / 5)) return *best;
  return std::nullopt;
}

[[noreturn]] void fail_unknown(std::string_view where, std::string_view key, Source source) {
  std::string what = "unknown key";
  if (const auto suggestion = suggest(key, source != Source::environment)) {
    what += "; did you mean ";
    what += source == Source::environment ? config::environment_name(*suggestion) : *suggestion;
    what += "?";
  }
  fail(where, key, what);
}

bool is_section(std::string_view key) {
  for (const Option& o : config::options()) {
    if (o.key.size() > key.size() && o.key.starts_with(key) && o.key[key.size()] == '.') {
      return true;
    }
  }
  return false;
}

// Listener names become TOML bare keys and environment-variable segments, which are
// case-folded; so they are limited to lower-case letters, digits, '_' and '-'.
bool valid_listener_name(std::string_view name) {
  return config::valid_name(name);
}

std::string key_from_environment(std::string_view name) {
  name.remove_prefix(kEnvironmentPrefix.size());
  std::string key;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '_' && i + 1 < name.size() && name[i + 1] == '_') {
      key += '.';
      ++i;
    } else {
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    }
  }
  return key;
}

// The flag an override came from, for its error message.
std::string_view flag_for(std::string_view key) {
  if (key == "node.worker_threads") return "--threads";
  if (key == "log.level") return "--log-level";
  return "--set";
}

// JSON's string form, for a body written as a TOML table.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A string value of `table`, or nullopt when absent; fails when it is there but no string.
std::optional<std::string> string_key(const toml::table& table, std::string_view name,
                                      const std::string& where, const std::string& key,
                                      std::string_view expected) {
  const toml::node* node = table.get(name);
  if (node == nullptr) return std::nullopt;
  if (const auto* text = node->as_string()) return text->get();
  fail(where, key + "." + std::string(name),
       "expected " + std::string(expected) + ", got " + from_toml(*node).shown());
}

// What the loader needs to know of each chain.
struct AuthnTraits {
  using Entry = AuthenticatorConfig;
  using Type = AuthBackend;
  static constexpr std::string_view kArray = "authentication";
  static constexpr std::array<Type, 3> kTypes = kAuthBackends;

  static Type& type_of(Entry& e) { return e.backend; }
  static Type type_of(const Entry& e) { return e.backend; }
  static const char* type_name(Type type) { return auth_backend_name(type); }
  static std::optional<Type> type_named(std::string_view name) {
    for (const Type type : kTypes) {
      if (name == auth_backend_name(type)) return type;
    }
    return std::nullopt;
  }
  static std::span<const config::AuthenticatorOption> rows(Type type) {
    return config::authenticator_options(type);
  }
  static std::span<const config::AuthenticatorOption> common_rows() {
    return config::authenticator_common_options();
  }
  static bool is_type_key(std::string_view key) { return key == "backend" || key == "mechanism"; }
  // backend, and EMQX's mechanism: password_based (password_file, http) or jwt, which
  // needs no backend.
  static Type type_from(const toml::table& table, const std::string& where,
                        const std::string& key) {
    constexpr std::string_view expected = "one of password_file, jwt or http";
    const auto backend = string_key(table, "backend", where, key, expected);
    const auto mechanism =
        string_key(table, "mechanism", where, key, "one of password_based or jwt");
    if (mechanism && *mechanism != "password_based" && *mechanism != "jwt") {
      fail(where, key + ".mechanism",
           "expected one of password_based or jwt, got " + config::toml_string(*mechanism));
    }
    if (!backend && mechanism == "jwt") return Type::jwt;
    if (!backend) fail(where, key + ".backend", "required: " + std::string(expected));
    const auto type = type_named(*backend);
    if (!type) {
      fail(where, key + ".backend",
           "expected " + std::string(expected) + ", got " + config::toml_string(*backend));
    }
    const std::string_view needs = *type == Type::jwt ? "jwt" : "password_based";
    if (mechanism && *mechanism != needs) {
      fail(where, key + ".mechanism",
           "a " + *backend + " authenticator is mechanism \"" + std::string(needs) + "\", got " +
               config::toml_string(*mechanism));
    }
    return *type;
  }
  static std::string_view required_key(const Entry& e) {
    switch (e.backend) {
      case Type::password_file:
        return "path";
      case Type::jwt:
        return "algorithm";
      case Type::http:
        break;
    }
    return "url";
  }
  static const std::string& required(const Entry& e) {
    switch (e.backend) {
      case Type::password_file:
        return e.path;
      case Type::jwt:
        return e.algorithm;
      case Type::http:
        break;
    }
    return e.url;
  }
  static void check_empty_section(const Entry& e) {
    if (e.backend == Type::password_file && !e.superusers.empty()) {
      fail(e.origin.where, "auth.password_file.superusers",
           "superusers are users of a password file; set auth.password_file.path too");
    }
  }
};

struct AuthzTraits {
  using Entry = AuthorizationSourceConfig;
  using Type = AuthzType;
  static constexpr std::string_view kArray = "authorization.sources";
  static constexpr std::array<Type, 2> kTypes = kAuthzTypes;

  static Type& type_of(Entry& e) { return e.type; }
  static Type type_of(const Entry& e) { return e.type; }
  static const char* type_name(Type type) { return authz_type_name(type); }
  static std::optional<Type> type_named(std::string_view name) {
    for (const Type type : kTypes) {
      if (name == authz_type_name(type)) return type;
    }
    return std::nullopt;
  }
  static std::span<const config::AuthorizationSourceOption> rows(Type type) {
    return config::authorization_source_options(type);
  }
  static std::span<const config::AuthorizationSourceOption> common_rows() {
    return config::authorization_source_common_options();
  }
  static bool is_type_key(std::string_view key) { return key == "type"; }
  static Type type_from(const toml::table& table, const std::string& where,
                        const std::string& key) {
    constexpr std::string_view expected = "one of file or http";
    const auto type = string_key(table, "type", where, key, expected);
    if (!type) fail(where, key + ".type", "required: " + std::string(expected));
    const auto named = type_named(*type);
    if (!named) {
      fail(where, key + ".type",
           "expected " + std::string(expected) + ", got " + config::toml_string(*type));
    }
    return *named;
  }
  static std::string_view required_key(const Entry& e) {
    return e.type == Type::file ? "path" : "url";
  }
  static const std::string& required(const Entry& e) {
    return e.type == Type::file ? e.path : e.url;
  }
  static void check_empty_section(const Entry&) {}
};

class Loader {
 public:
  Loader() {
    for (const Option& o : config::options()) {
      apply(o, config_, from_text(o.default_value), "built-in default", o.key);
    }
  }

  void read_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      fail(path, "", "cannot read the configuration file: it is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      fail(path, "", std::string("cannot read the configuration file: ") + std::strerror(errno));
    }
    std::ostringstream content;
    content << in.rdbuf();
    file_ = path;
    toml::table root;
    try {
      root = toml::parse(content.str(), path);
    } catch (const toml::parse_error& e) {
      fail(at(e.source()), "", "invalid TOML: " + std::string(e.description()));
    }
    walk(root, "");
  }

  void read_environment(const std::map<std::string, std::string>& environment) {
    for (const auto& [name, value] : environment) {
      if (!name.starts_with(kEnvironmentPrefix)) continue;
      if (std::find(kNotConfiguration.begin(), kNotConfiguration.end(), name) !=
          kNotConfiguration.end()) {
        continue;
      }
      apply_text(key_from_environment(name), value, "environment variable " + name,
                 Source::environment);
    }
  }

  void read_overrides(const std::vector<std::pair<std::string, std::string>>& overrides) {
    for (const auto& [key, value] : overrides) {
      apply_text(key, value, std::string(flag_for(key)), Source::command_line);
    }
  }

  Config finish(const std::vector<std::string>& listen) && {
    // The built-in listener exists only when nothing else names one, so that
    // `cicada --listen 127.0.0.1:0` listens there alone.
    if (listeners_.empty() && listen.empty()) {
      listener(ListenerKind::tcp, kDefaultListener, "built-in default", "listeners.tcp.default");
    }
    for (std::size_t i = 0; i < listen.size(); ++i) {
      const std::string name = "cli-" + std::to_string(i + 1);
      const std::string key = std::string(kTcpListeners) + name;
      if (listeners_.contains(key)) {
        fail("--listen", key, "this name is already used by the configuration; rename that table");
      }
      const auto host_port = config::parse_host_port(listen[i]);
      if (!host_port) {
        fail("--listen", "",
             "expected HOST:PORT with a port from 0 to 65535 and an IPv6 host in brackets, as "
             "in [::]:1883, got " +
                 config::toml_string(listen[i]));
      }
      Listener& added = listener(ListenerKind::tcp, name, "--listen", key);
      added.config.host = host_port->host;
      added.config.port = host_port->port;
      cli_order_.push_back(key);
    }
    std::vector<const Listener*> ordered;
    for (const auto& [key, l] : listeners_) {
      if (std::find(cli_order_.begin(), cli_order_.end(), key) == cli_order_.end()) {
        ordered.push_back(&l);  // file and environment listeners, by kind and name
      }
    }
    for (const std::string& key : cli_order_)
      ordered.push_back(&listeners_.at(key));
    check_distinct_binds(ordered);
    config_.authentication = finish_steps(authn_);
    config_.authorization_sources = finish_steps(authz_);
    check_authenticator_names(ordered);
    for (const Listener* l : ordered)
      config_.tcp_listeners.push_back(l->config);
    return std::move(config_);
  }

 private:
  struct Listener {
    TcpListenerConfig config;
    std::string bind_where;            // where its bind was set, for the duplicate-bind error
    std::string authenticators_where;  // where its authenticators were, for unknown names
  };

  // One chain's entries as read: the array's tables, or the single-step sections (at most
  // one per type, in the chain's fixed order).
  template <class Traits>
  struct Steps {
    std::vector<typename Traits::Entry> tables;
    std::array<std::optional<typename Traits::Entry>, Traits::kTypes.size()> sections;
  };

  template <class Traits>
  typename Traits::Entry fresh_entry(typename Traits::Type type, Origin origin) const {
    typename Traits::Entry entry;
    Traits::type_of(entry) = type;
    for (const auto& o : Traits::common_rows())
      apply(o, entry, from_text(o.default_value), "built-in default", o.key);
    for (const auto& o : Traits::rows(type))
      apply(o, entry, from_text(o.default_value), "built-in default", o.key);
    entry.origin = std::move(origin);
    return entry;
  }

  // A value from the file for `o`: a TOML table where the row takes one (EMQX's body and
  // headers), else the value itself.
  template <class Target>
  static Written written(const OptionSpec<Target>& o, const toml::node& node) {
    const auto* table = node.as_table();
    if (table == nullptr || o.table_form == config::TableForm::none) return from_toml(node);
    // In the order written (toml++ iterates its tables by key): a form-encoded body's
    // fields go out as the operator wrote them.
    std::vector<std::pair<const toml::key*, const toml::node*>> fields;
    for (auto&& [name, value] : *table)
      fields.emplace_back(&name, &value);
    std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) {
      const auto& x = a.first->source().begin;
      const auto& y = b.first->source().begin;
      return std::tie(x.line, x.column) < std::tie(y.line, y.column);
    });
    Written w{.kind = Written::Kind::text};
    for (const auto& [key, node_value] : fields) {
      const toml::key& name = *key;
      const toml::node& value = *node_value;
      const auto* text = value.as_string();
      if (text == nullptr) return Written{.text = "a table whose values are not all strings"};
      if (o.table_form == config::TableForm::header_lines) {
        w.text += std::string(name.str()) + ": " + text->get() + "\n";
      } else {
        w.text +=
            (w.text.empty() ? "{" : ",") + json_string(name.str()) + ":" + json_string(text->get());
      }
    }
    if (o.table_form == config::TableForm::json_object) w.text += w.text.empty() ? "{}" : "}";
    return w;
  }

  // [[authentication]] / [[authorization.sources]]: an array of tables, each naming its
  // type (backend) first.
  template <class Traits>
  void walk_tables(Steps<Traits>& steps, const toml::node& node, const toml::key& name,
                   const std::string& key) {
    const auto* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      fail(at(node, name), key,
           "expected [[" + key + "]] tables, one per step, got " + from_toml(node).shown());
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::table& table = *array->get(i)->as_table();
      const std::string entry_key = key + "[" + std::to_string(i + 1) + "]";
      const std::string where = at(table.source().begin.line != 0 ? table.source() : name.source());
      const auto type = Traits::type_from(table, where, entry_key);
      auto entry = fresh_entry<Traits>(type, Origin{where, entry_key});
      for_each_key<Traits>(
          type, table, "",
          [&](const std::string& option_name, const toml::node& value, const toml::key& option) {
            if (Traits::is_type_key(option_name)) return;
            const std::string option_key = entry_key + "." + option_name;
            const auto* o = entry_row(type, option_name, /*with_common=*/true);
            if (o == nullptr) fail_entry_key<Traits>(type, at(option.source()), option_key);
            apply(*o, entry, written(*o, value), at(value, option), option_key);
          });
      steps.tables.push_back(std::move(entry));
    }
  }

  // [auth]: the [auth.password_file], [auth.jwt] and [auth.http] sections.
  template <class Traits>
  void walk_sections(Steps<Traits>& steps, const toml::node& node, const toml::key& name,
                     const std::string& key) {
    const auto* sections = node.as_table();
    if (sections == nullptr) {
      fail(at(node, name), key,
           "expected a table of sections, as [auth.http], got " + from_toml(node).shown());
    }
    for (auto&& [section, section_node] : *sections) {
      const std::string section_key = key + "." + std::string(section.str());
      const auto type = Traits::type_named(section.str());
      if (!type) fail_unknown(at(section.source()), section_key, Source::file);
      walk_section(steps, *type, section_node, section, section_key);
    }
  }

  template <class Traits>
  void walk_section(Steps<Traits>& steps, typename Traits::Type type, const toml::node& node,
                    const toml::key& name, const std::string& key) {
    const auto* options = node.as_table();
    if (options == nullptr) {
      fail(at(node, name), key,
           "expected a table of options, as [" + key + "], got " + from_toml(node).shown());
    }
    for_each_key<Traits>(
        type, *options, "",
        [&](const std::string& option_name, const toml::node& value, const toml::key& option) {
          const std::string option_key = key + "." + option_name;
          const auto* o = entry_row(type, option_name, /*with_common=*/false);
          if (o == nullptr) fail_unknown(at(option.source()), option_key, Source::file);
          apply(*o, section_entry(steps, type, at(value, option)), written(*o, value),
                at(value, option), option_key);
        });
  }

  // Calls f(name, value, key) for each key of a step's table, with the tables of dotted
  // keys (EMQX's ssl = { verify = ... }, [auth.http.ssl]) flattened: "ssl.verify".
  template <class Traits, class F>
  static void for_each_key(typename Traits::Type type, const toml::table& table,
                           const std::string& prefix, const F& f) {
    for (auto&& [option, value] : table) {
      const std::string name = prefix + std::string(option.str());
      const auto* inner = value.as_table();
      if (inner != nullptr && entry_row(type, name, /*with_common=*/true) == nullptr &&
          std::any_of(Traits::rows(type).begin(), Traits::rows(type).end(),
                      [under = name + "."](const auto& o) { return o.key.starts_with(under); })) {
        for_each_key<Traits>(type, *inner, name + ".", f);
        continue;
      }
      f(name, value, option);
    }
  }

  template <class Traits>
  typename Traits::Entry& section_entry(Steps<Traits>& steps, typename Traits::Type type,
                                        std::string_view where) {
    auto& slot = steps.sections[static_cast<std::size_t>(type)];
    if (!slot) slot = fresh_entry<Traits>(type, Origin{std::string(where), section_of(type)});
    return *slot;
  }

  // CICADA_AUTH__HTTP__URL, --set auth.http.url=...: a key of a single-step section.
  template <class Traits>
  bool apply_section_text(Steps<Traits>& steps, std::string_view key, const Written& w,
                          const std::string& where) {
    for (const auto type : Traits::kTypes) {
      const std::string prefix = section_of(type) + ".";
      if (!key.starts_with(prefix)) continue;
      const auto* o = entry_row(type, key.substr(prefix.size()), /*with_common=*/false);
      if (o == nullptr) return false;
      apply(*o, section_entry(steps, type, where), w, where, key);
      return true;
    }
    return false;
  }

  template <class Traits>
  [[noreturn]] static void fail_entry_key(typename Traits::Type type, std::string_view where,
                                          const std::string& key) {
    std::string what =
        std::string("unknown key of a ") + Traits::type_name(type) + " step; its keys are ";
    const auto rows = Traits::rows(type);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (i != 0) what += ", ";
      what += rows[i].key;
    }
    fail(where, key, what);
  }

  // The chain's entries: the tables, or the sections in their fixed order. Checks what
  // needs the whole chain: no mixing of the two forms, each step's required key, names.
  template <class Traits>
  std::vector<typename Traits::Entry> finish_steps(Steps<Traits>& steps) const {
    std::vector<typename Traits::Entry> entries;
    for (auto& section : steps.sections) {
      if (!section) continue;
      if (!steps.tables.empty()) {
        fail(section->origin.where, section->origin.key,
             "[" + section->origin.key + "] cannot be used with [[" + std::string(Traits::kArray) +
                 "]] tables (" + steps.tables.front().origin.where + "); make it one of them");
      }
      // A section whose required key is empty is off, as before the tables existed
      // (CICADA_AUTH__HTTP__URL= turns the file's [auth.http] off).
      if (Traits::required(*section).empty()) {
        Traits::check_empty_section(*section);
        continue;
      }
      entries.push_back(std::move(*section));
    }
    for (auto& table : steps.tables) {
      if (Traits::required(table).empty()) {
        fail(table.origin.where, table.origin.key + "." + std::string(Traits::required_key(table)),
             "required");
      }
      entries.push_back(std::move(table));
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
      auto& entry = entries[i];
      if (entry.name.empty()) entry.name = Traits::type_name(Traits::type_of(entry));
      if (!config::valid_name(entry.name)) {
        fail(entry.origin.where, entry.origin.key + ".name",
             "expected a name of lower-case letters, digits, '_' and '-', got " +
                 config::toml_string(entry.name));
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (entries[j].name == entry.name) {
          fail(entry.origin.where, entry.origin.key + ".name",
               config::toml_string(entry.name) + " is also the name of " + entries[j].origin.key +
                   "; give each step its own name");
        }
      }
    }
    return entries;
  }

  template <class Target>
  static void apply(const OptionSpec<Target>& o, Target& target, const Written& w,
                    std::string_view where, std::string_view key) {
    o.set(target, config::convert(o, w, where, key));
  }

  void apply_listener(const ListenerOption& o, Listener& l, const Written& w,
                      std::string_view where, std::string_view key) {
    apply(o, l.config, w, where, key);
    if (o.type == OptionType::bind) l.bind_where = where;
    if (o.type == OptionType::names) l.authenticators_where = where;
  }

  // Listeners are keyed "listeners.KIND.NAME": [listeners.tcp.default] and
  // [listeners.ssl.default] are two listeners.
  Listener& listener(ListenerKind kind, std::string_view name, std::string_view where,
                     std::string_view key) {
    const std::string id = std::string(kind_of(kind).prefix) + std::string(name);
    auto it = listeners_.find(id);
    if (it != listeners_.end()) return it->second;
    if (!valid_listener_name(name)) {
      fail(where, key, "expected a listener name of lower-case letters, digits, '_' and '-'");
    }
    Listener l;
    l.config.kind = kind;
    l.config.name = std::string(name);
    l.bind_where = where;
    for (const ListenerOption& o : config::listener_options()) {
      apply(o, l.config, from_text(o.default_value), "built-in default", o.key);
    }
    for (const ListenerOption* o : config::kind_listener_options(kind)) {
      apply(*o, l.config, from_text(o->default_value), "built-in default", o->key);
    }
    return listeners_.emplace(id, std::move(l)).first->second;
  }

  std::string at(const toml::source_region& region) const {
    return file_ + ":" + std::to_string(region.begin.line);
  }
  // A value's own line, or its key's when toml++ has none (implicit tables).
  std::string at(const toml::node& value, const toml::key& key) const {
    return at(value.source().begin.line != 0 ? value.source() : key.source());
  }

  void walk(const toml::table& table, const std::string& prefix) {
    for (auto&& [name, node] : table) {
      const std::string key =
          prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
      if (key == "listeners") {
        walk_listeners(node, name);
      } else if (key == "authentication") {
        walk_tables(authn_, node, name, key);
      } else if (key == "authorization.sources") {
        walk_tables(authz_, node, name, key);
      } else if (key == "auth") {
        walk_sections(authn_, node, name, key);
      } else if (key == "authorization.acl_file") {
        walk_section(authz_, AuthzType::file, node, name, key);
      } else if (key == "authorization.http") {
        walk_section(authz_, AuthzType::http, node, name, key);
      } else if (const Option* o = config::find_option(key)) {
        apply(*o, config_, from_toml(node), at(node, name), key);
      } else if (is_section(key)) {
        const auto* section = node.as_table();
        if (section == nullptr) {
          fail(at(node, name), key,
               "expected a table of options, as [" + key + "], got " + from_toml(node).shown());
        }
        walk(*section, key);
      } else if (const auto* unknown = node.as_table(); unknown != nullptr && !unknown->empty()) {
        fail_unknown_table(*unknown, key);
      } else {
        fail_unknown(at(name.source()), key, Source::file);
      }
    }
  }

  // Names the first option inside an unknown table rather than the table, so that the
  // suggestion can find an option by its own name: EMQX's [retainer.backend]
  // max_retained_messages leads to retainer.max_retained_messages.
  [[noreturn]] void fail_unknown_table(const toml::table& table, const std::string& prefix) const {
    const toml::key* first = nullptr;
    const toml::node* first_node = nullptr;
    for (auto&& [name, node] : table) {
      if (first == nullptr || name.source().begin.line < first->source().begin.line) {
        first = &name;
        first_node = &node;
      }
    }
    const std::string key = prefix + "." + std::string(first->str());
    const auto* inner = first_node->as_table();
    if (inner != nullptr && !inner->empty()) fail_unknown_table(*inner, key);
    fail_unknown(at(first->source()), key, Source::file);
  }

  void walk_listeners(const toml::node& node, const toml::key& name) {
    const auto* kinds = node.as_table();
    if (kinds == nullptr) {
      fail(at(node, name), "listeners",
           "expected a table of listeners, as [listeners.tcp.default], got " +
               from_toml(node).shown());
    }
    for (auto&& [kind, kind_node] : *kinds) {
      const std::string kind_key = "listeners." + std::string(kind.str());
      const KindName* known = kind_named(kind.str());
      if (known == nullptr) {
        fail(at(kind.source()), kind_key,
             "unknown key; listeners are [listeners.tcp.NAME], [listeners.ssl.NAME], "
             "[listeners.ws.NAME] and [listeners.wss.NAME] tables");
      }
      const auto* tcp = kind_node.as_table();
      if (tcp == nullptr) {
        fail(at(kind_node, kind), kind_key,
             "expected a table of listeners, as [listeners.tcp.default], got " +
                 from_toml(kind_node).shown());
      }
      for (auto&& [listener_name, listener_node] : *tcp) {
        const std::string listener_key = kind_key + "." + std::string(listener_name.str());
        if (const auto* options = listener_node.as_table()) {
          Listener& l =
              listener(known->kind, listener_name.str(), at(listener_name.source()), listener_key);
          for (auto&& [option_name, value] : *options) {
            const std::string key = listener_key + "." + std::string(option_name.str());
            const ListenerOption* o = config::find_listener_option(known->kind, option_name.str());
            if (o == nullptr) fail_unknown(at(option_name.source()), key, Source::file);
            apply_listener(*o, l, from_toml(value), at(value, option_name), key);
          }
        } else if (const ListenerOption* o =
                       config::find_listener_option(known->kind, listener_name.str())) {
          // The short form listeners.tcp.bind = "..." sets the "default" listener, like
          // CICADA_LISTENERS__TCP__BIND in DESIGN.md.
          Listener& l =
              listener(known->kind, kDefaultListener, at(listener_name.source()), listener_key);
          apply_listener(*o, l, from_toml(listener_node), at(listener_node, listener_name),
                         listener_key);
        } else {
          fail_unknown(at(listener_name.source()), listener_key, Source::file);
        }
      }
    }
  }

  // A key path and its text from the environment or the command line.
  void apply_text(const std::string& key, std::string_view text, const std::string& where,
                  Source source) {
    const Written w = from_text(text);
    if (const KindName* kind = kind_of_key(key)) {
      const std::string_view rest = std::string_view(key).substr(kind->prefix.size());
      const auto dot = rest.find('.');
      const std::string_view name =
          dot == std::string_view::npos ? kDefaultListener : rest.substr(0, dot);
      const std::string_view option = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
      if (const ListenerOption* o = config::find_listener_option(kind->kind, option)) {
        Listener& l =
            listener(kind->kind, name, where, std::string(kind->prefix) + std::string(name));
        apply_listener(*o, l, w, where, key);
        return;
      }
    } else if (const Option* o = config::find_option(key)) {
      apply(*o, config_, w, where, key);
      return;
    } else if (apply_section_text(authn_, key, w, where) ||
               apply_section_text(authz_, key, w, where)) {
      return;
    }
    fail_unknown(where, key, source);
  }

  void check_authenticator_names(const std::vector<const Listener*>& listeners) const {
    for (const Listener* l : listeners) {
      for (const std::string& name : l->config.authenticators) {
        const auto& steps = config_.authentication;
        if (std::any_of(steps.begin(), steps.end(),
                        [&name](const AuthenticatorConfig& a) { return a.name == name; })) {
          continue;
        }
        std::string known;
        for (const AuthenticatorConfig& a : steps)
          known += (known.empty() ? "" : ", ") + a.name;
        fail(l->authenticators_where,
             std::string(kind_of(l->config.kind).prefix) + l->config.name + ".authenticators",
             "no authenticator is named " + config::toml_string(name) +
                 (known.empty() ? std::string("; none is configured")
                                : "; the authenticators are " + known));
      }
    }
  }

  void check_distinct_binds(const std::vector<const Listener*>& listeners) const {
    for (std::size_t j = 0; j < listeners.size(); ++j) {
      const TcpListenerConfig& b = listeners[j]->config;
      if (!b.enabled || b.port == 0) continue;  // port 0: the kernel picks distinct ports
      for (std::size_t i = 0; i < j; ++i) {
        const TcpListenerConfig& a = listeners[i]->config;
        if (a.enabled && a.host == b.host && a.port == b.port) {
          fail(listeners[j]->bind_where, std::string(kind_of(b.kind).prefix) + b.name + ".bind",
               config::format_host_port(b.host, b.port) + " is also the bind of listener " +
                   a.id() + "; give each listener its own port");
        }
      }
    }
  }

  Config config_;
  Steps<AuthnTraits> authn_;
  Steps<AuthzTraits> authz_;
  std::map<std::string, Listener, std::less<>> listeners_;
  std::vector<std::string> cli_order_;
  std::string file_;
};

}  // namespace

Config load_config(const CommandLine& cli, const std::map<std::string, std::string>& environment) {
  Loader loader;
  if (cli.config_file) loader.read_file(*cli.config_file);
  loader.read_environment(environment);
  loader.read_overrides(cli.overrides);
  return std::move(loader).finish(cli.listen);
}

std::map<std::string, std::string> environment_from(char** envp) {
  std::map<std::string, std::string> environment;
  for (char** entry = envp; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos || !text.starts_with(kEnvironmentPrefix)) continue;
    environment.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return environment;
}

}  // namespace cicada::broker
