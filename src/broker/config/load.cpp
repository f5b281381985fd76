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
#include <sstream>
#include <string>
#include <string_view>
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
  } else if (node.is_array()) {
    w.text = "an array";
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
  if (with_sections) {
    for (std::string_view section :
         {"listeners", "listeners.tcp", "listeners.ssl", "listeners.ws", "listeners.wss", "mqtt",
          "retainer", "sys_topics", "auth", "authorization", "auth.http", "authorization.http",
          "node", "log"}) {
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
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
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
    for (const Listener* l : ordered)
      config_.tcp_listeners.push_back(l->config);
    return std::move(config_);
  }

 private:
  struct Listener {
    TcpListenerConfig config;
    std::string bind_where;  // where its bind was set, for the duplicate-bind error
  };

  template <class Target>
  static void apply(const OptionSpec<Target>& o, Target& target, const Written& w,
                    std::string_view where, std::string_view key) {
    o.set(target, config::convert(o, w, where, key));
  }

  void apply_listener(const ListenerOption& o, Listener& l, const Written& w,
                      std::string_view where, std::string_view key) {
    apply(o, l.config, w, where, key);
    if (o.type == OptionType::bind) l.bind_where = where;
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
    }
    fail_unknown(where, key, source);
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
