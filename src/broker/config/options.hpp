// The declarative options table (STYLE.md 10): one row per option with its key, type,
// default, bounds, reload flag, description and accessors into the Config. Loading,
// printing, the environment names and docs/config.md are all derived from it.
// Private to src/broker/config; tests include it to check the table itself.
// Thread-safety: immutable tables and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/config/config.hpp"

namespace cicada::broker::config {

enum class OptionType {
  boolean,      // true / false
  integer,      // a plain non-negative integer
  size,         // bytes: 512B, 64KB, 1MB, 1GB, 1TB (powers of 1024) or a plain number of bytes
  duration,     // 500ms, 15s, 5m, 2h, 1d, combined as 1h30m, or a plain number of seconds
  string,       // text; bounds are on its length in bytes
  enumeration,  // one of `choices`
  bind,         // HOST:PORT, [IPv6]:PORT, or a bare PORT (host 0.0.0.0)
  names,        // a list of names: a TOML array of strings, or "a, b" from the environment
};

// A string option that a file may also write as a TOML table (EMQX writes body and headers
// so): the table is turned into the option's text form.
enum class TableForm {
  none,
  json_object,   // { clientid = "${clientid}" } -> {"clientid":"${clientid}"}
  header_lines,  // { "X-Key" = "k" } -> "X-Key: k\n"
};

// A parsed value: booleans, numbers (sizes in bytes, durations in the option's unit) and text
// (strings and enumerations; a bind as "HOST:PORT"; names joined by commas, "a,b").
using OptionValue = std::variant<bool, std::uint64_t, std::string>;

template <class Target>
struct OptionSpec {
  std::string_view key;  // dotted path below its section: "mqtt.max_inflight", "bind"
  OptionType type;
  std::string_view default_value;  // as written in a file: "1MB", "true", "round_robin"
  std::uint64_t min = 0;           // numbers: value bounds; strings: length bounds
  std::uint64_t max = 0;
  bool reloadable = false;    // may change on a configuration reload (applies to new connections)
  bool milliseconds = false;  // durations: the field counts milliseconds, not seconds
  std::span<const std::string_view> choices;  // enumerations
  TableForm table_form = TableForm::none;     // strings
  std::string_view description;
  void (*set)(Target&, const OptionValue&) = nullptr;
  OptionValue (*get)(const Target&) = nullptr;
};

using Option = OptionSpec<Config>;
using ListenerOption = OptionSpec<TcpListenerConfig>;
using AuthenticatorOption = OptionSpec<AuthenticatorConfig>;
using AuthorizationSourceOption = OptionSpec<AuthorizationSourceConfig>;

// Every scalar option, in the order of docs/config.md and print_config.
std::span<const Option> options();
// The keys of one [listeners.tcp.NAME] table; every other kind has them too.
std::span<const ListenerOption> listener_options();
// The keys a listener of `kind` has besides listener_options(), in the order of
// docs/config.md and print_config: its own bind row (the default port of its kind:
// ssl 8883, ws 8083, wss 8084), then the TLS keys (ssl, wss), then the WebSocket keys
// (ws, wss). Empty for tcp.
std::vector<const ListenerOption*> kind_listener_options(ListenerKind kind);

// The keys of an [[authentication]] table of `backend` besides backend, mechanism, name and
// enable (authenticator_common_options()); also every key of its [auth.BACKEND] section.
std::span<const AuthenticatorOption> authenticator_options(AuthBackend backend);
std::span<const AuthenticatorOption> authenticator_common_options();  // name, enable
// The same for [[authorization.sources]] tables and [authorization.acl_file|http].
std::span<const AuthorizationSourceOption> authorization_source_options(AuthzType type);
std::span<const AuthorizationSourceOption> authorization_source_common_options();

const Option* find_option(std::string_view key);
const ListenerOption* find_listener_option(std::string_view key);
// A key of a listener of `kind`: its own keys first, then the common ones.
const ListenerOption* find_listener_option(ListenerKind kind, std::string_view key);

// "mqtt.max_inflight" -> "CICADA_MQTT__MAX_INFLIGHT".
std::string environment_name(std::string_view key);

// Text forms shared by the loader, the printer and the docs. The parsers return nullopt on
// malformed input or overflow; durations are parsed to milliseconds.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::uint64_t> parse_duration_ms(std::string_view text);
std::string format_size(std::uint64_t bytes);          // largest exact unit: "1MB", "1500B"
std::string format_duration_ms(std::uint64_t millis);  // largest exact unit: "2h", "1500ms"

// A number of an integer, size or duration option as a file would hold it: "32", "1MB", "15s".
// `value` is in the option's unit (bytes; seconds, or milliseconds when `milliseconds`).
std::string format_number(OptionType type, bool milliseconds, std::uint64_t value);
// A names value ("a,b") as its list, and back.
std::vector<std::string> split_names(std::string_view joined);
std::string join_names(const std::vector<std::string>& names);
// Names of listeners, authenticators and sources become TOML keys, list items and
// environment-variable segments (case-folded): lower-case letters, digits, '_' and '-'.
bool valid_name(std::string_view name);
// A TOML basic string: quoted, with quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text);
// Well-formed UTF-8 without U+0000, as MQTT requires of its strings [MQTT-1.5.4-1], [MQTT-1.5.4-2].
bool is_mqtt_utf8(std::string_view text);

struct HostPort {
  std::string host;  // without IPv6 brackets
  std::uint16_t port = 0;
};
// "0.0.0.0:1883", "[::]:1883", "localhost:0" or a bare "1883". Nullopt if malformed or the
// port is above 65535.
std::optional<HostPort> parse_host_port(std::string_view text);
std::string format_host_port(std::string_view host, std::uint16_t port);  // brackets IPv6

}  // namespace cicada::broker::config
