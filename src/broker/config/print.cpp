// The effective configuration as TOML (--print-config), and the options table of
// docs/config.md. Both are generated from the declarative table, so neither can drift.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "broker/config/config.hpp"
#include "broker/config/options.hpp"

namespace cicada::broker {
namespace {

using config::OptionSpec;
using config::OptionType;
using config::OptionValue;

// A value as load_config reads it back: sizes and durations in their largest exact unit.
template <class Target>
std::string toml_value(const OptionSpec<Target>& o, const OptionValue& value) {
  switch (o.type) {
    case OptionType::boolean:
      return std::get<bool>(value) ? "true" : "false";
    case OptionType::integer:
      return std::to_string(std::get<std::uint64_t>(value));
    case OptionType::size:
    case OptionType::duration:
      return config::toml_string(
          config::format_number(o.type, o.milliseconds, std::get<std::uint64_t>(value)));
    case OptionType::names: {
      std::string array = "[";
      for (const std::string& name : config::split_names(std::get<std::string>(value))) {
        if (array.size() > 1) array += ", ";
        array += config::toml_string(name);
      }
      return array + "]";
    }
    case OptionType::string:
    case OptionType::enumeration:
    case OptionType::bind:
      break;
  }
  return config::toml_string(std::get<std::string>(value));
}

// Markdown inline code. (Appending rather than "`" + text: GCC 12 warns falsely about
// operator+ on a literal and a string, PR 105329.)
std::string code(std::string_view text) {
  return std::string("`").append(text).append("`");
}

std::string_view type_name(OptionType type) {
  switch (type) {
    case OptionType::boolean:
      return "boolean";
    case OptionType::integer:
      return "integer";
    case OptionType::size:
      return "size";
    case OptionType::duration:
      return "duration";
    case OptionType::string:
      return "string";
    case OptionType::enumeration:
      return "enum";
    case OptionType::bind:
      return "HOST:PORT";
    case OptionType::names:
      return "names";
  }
  return "";
}

template <class Target>
std::string bounds(const OptionSpec<Target>& o) {
  switch (o.type) {
    case OptionType::integer:
    case OptionType::size:
    case OptionType::duration:
      return config::format_number(o.type, o.milliseconds, o.min) + " .. " +
             config::format_number(o.type, o.milliseconds, o.max);
    case OptionType::string:
      return "at most " + std::to_string(o.max) + " bytes";
    case OptionType::enumeration: {
      std::string text;
      for (std::string_view choice : o.choices) {
        if (!text.empty()) text += ", ";
        text += code(choice);
      }
      return text;
    }
    case OptionType::names:
      return "lower-case letters, digits, `_`, `-`";
    case OptionType::boolean:
    case OptionType::bind:
      break;
  }
  return "";
}

template <class Target>
std::string markdown_row(const OptionSpec<Target>& o, const std::string& key,
                         bool has_environment = true) {
  std::string row = "| ";
  row.append(code(key)).append(" | ").append(type_name(o.type)).append(" | ");
  const std::string_view empty = o.type == OptionType::names ? "[]" : "\"\"";
  row.append(code(o.default_value.empty() ? empty : o.default_value)).append(" | ");
  row.append(bounds(o)).append(" | ").append(o.reloadable ? "yes" : "no").append(" | ");
  row.append(has_environment ? code(config::environment_name(key)) : "").append(" | ");
  return row.append(o.description).append(" |\n");
}

template <class Target>
void print_rows(std::string& out, std::span<const OptionSpec<Target>> rows, const Target& target) {
  for (const OptionSpec<Target>& o : rows)
    out += std::string(o.key) + " = " + toml_value(o, o.get(target)) + "\n";
}

}  // namespace

std::string print_config(const Config& c) {
  // An empty tcp_listeners cannot be written: reading the output back would add the
  // built-in listener. load_config never produces one.
  std::string out =
      "# Effective configuration of the cicada broker.\n"
      "# Built-in defaults < configuration file < CICADA_* environment < command line.\n"
      "# Every option is listed; docs/config.md describes them.\n";
  for (const TcpListenerConfig& listener : c.tcp_listeners) {
    out += std::string("\n[listeners.") + listener_kind_name(listener.kind) + "." + listener.name +
           "]\n";
    for (const config::ListenerOption& o : config::listener_options()) {
      // A kind's own row for a common key (bind) is printed below instead.
      if (config::find_listener_option(listener.kind, o.key) != &o) continue;
      out += std::string(o.key) + " = " + toml_value(o, o.get(listener)) + "\n";
    }
    for (const config::ListenerOption* o : config::kind_listener_options(listener.kind)) {
      out += std::string(o->key) + " = " + toml_value(*o, o->get(listener)) + "\n";
    }
  }
  std::string_view section;
  for (const config::Option& o : config::options()) {
    const auto dot = o.key.find('.');
    const std::string_view option_section = o.key.substr(0, dot);
    if (option_section != section) {
      section = option_section;
      out += "\n[" + std::string(section) + "]\n";
    }
    out += std::string(o.key.substr(dot + 1)) + " = " + toml_value(o, o.get(c)) + "\n";
  }
  for (const AuthenticatorConfig& a : c.authentication) {
    out +=
        std::string("\n[[authentication]]\nbackend = \"") + auth_backend_name(a.backend) + "\"\n";
    print_rows(out, config::authenticator_common_options(), a);
    print_rows(out, config::authenticator_options(a.backend), a);
  }
  for (const AuthorizationSourceConfig& s : c.authorization_sources) {
    out += std::string("\n[[authorization.sources]]\ntype = \"") + authz_type_name(s.type) + "\"\n";
    print_rows(out, config::authorization_source_common_options(), s);
    print_rows(out, config::authorization_source_options(s.type), s);
  }
  return out;
}

std::string options_markdown() {
  std::string out =
      "| Key | Type | Default | Bounds | Reloadable | Environment variable | Description |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const config::ListenerOption& o : config::listener_options()) {
    out += markdown_row(o, "listeners.tcp.<name>." + std::string(o.key));
  }
  // Every other kind has the keys above too; these are its own. A wss listener has those
  // of ssl and ws, listed once there.
  std::vector<const config::ListenerOption*> listed;
  for (const ListenerKind kind : {ListenerKind::ssl, ListenerKind::ws, ListenerKind::wss}) {
    for (const config::ListenerOption* o : config::kind_listener_options(kind)) {
      if (std::find(listed.begin(), listed.end(), o) != listed.end()) continue;
      listed.push_back(o);
      out += markdown_row(*o, "listeners." + std::string(listener_kind_name(kind)) + ".<name>." +
                                  std::string(o->key));
    }
  }
  for (const config::Option& o : config::options())
    out += markdown_row(o, std::string(o.key));
  // The steps of the two chains, as the keys of their single-step sections; every one is a
  // key of an [[authentication]] / [[authorization.sources]] table of that backend too.
  for (const config::AuthenticatorOption& o : config::authenticator_common_options())
    out += markdown_row(o, "authentication[]." + std::string(o.key), false);
  for (const AuthBackend backend :
       {AuthBackend::password_file, AuthBackend::jwt, AuthBackend::http}) {
    for (const config::AuthenticatorOption& o : config::authenticator_options(backend)) {
      out += markdown_row(
          o, std::string("auth.") + auth_backend_name(backend) + "." + std::string(o.key));
    }
  }
  for (const config::AuthorizationSourceOption& o : config::authorization_source_common_options()) {
    out += markdown_row(o, "authorization.sources[]." + std::string(o.key), false);
  }
  for (const AuthzType type : {AuthzType::file, AuthzType::http}) {
    for (const config::AuthorizationSourceOption& o : config::authorization_source_options(type)) {
      out += markdown_row(o, std::string(type == AuthzType::file ? "authorization.acl_file."
                                                                 : "authorization.http.") +
                                 std::string(o.key));
    }
  }
  return out;
}

}  // namespace cicada::broker
