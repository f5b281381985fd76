// The broker's configuration: one immutable snapshot built at start-up from built-in
// defaults < TOML file < CICADA_* environment < command line, then handed to workers
// (STYLE.md 10). Every option is a row of the declarative table in options.cpp;
// docs/config.md lists them all.
// Thread-safety: plain value types; a loaded Config is never mutated, so any thread may read it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cicada::broker {

// The kinds of [listeners.KIND.NAME] tables. Every kind but tcp is a layer made per
// accepted connection (src/net) and a few keys of its own; wss has those of ssl and ws.
enum class ListenerKind { tcp, ssl, ws, wss };
// "tcp", "ssl", "ws", "wss": the KIND of its tables.
constexpr const char* listener_kind_name(ListenerKind kind) noexcept {
  constexpr const char* names[] = {"tcp", "ssl", "ws", "wss"};
  return names[static_cast<int>(kind)];
}
constexpr bool uses_tls(ListenerKind kind) noexcept {
  return kind == ListenerKind::ssl || kind == ListenerKind::wss;
}
constexpr bool uses_websocket(ListenerKind kind) noexcept {
  return kind == ListenerKind::ws || kind == ListenerKind::wss;
}
// listeners.ssl.NAME.verify, in this order: verify_none, verify_peer.
enum class TlsVerify { verify_none, verify_peer };
// listeners.ssl.NAME.tls_min_version: tlsv1.2, tlsv1.3.
enum class TlsMinVersion { tls1_2, tls1_3 };
// listeners.ssl.NAME.peer_cert_as_username: disabled, cn, dn.
enum class PeerCertAsUsername { disabled, cn, dn };

// One [listeners.KIND.NAME] table: the keys every kind has, then those of ssl listeners.
// (Named after the first kind; it describes listeners of every kind.)
struct TcpListenerConfig {
  std::string name;  // "default" for [listeners.tcp.default]; "cli-1", "cli-2" for --listen
  std::string host = "0.0.0.0";  // "0.0.0.0", "127.0.0.1", "::" (no brackets)
  std::uint16_t port = 1883;     // 0 = ephemeral (tests use 127.0.0.1:0)
  std::uint64_t max_connections = 1'000'000;
  bool enabled = true;
  // Clients that send no user name may connect. Clients that send one must pass the
  // authentication chain, unless no authenticator is configured at all.
  bool allow_anonymous = true;
  std::uint32_t max_conn_rate = 0;  // new connections accepted per second; 0 = no limit
  // The names of the authenticators asked for this listener's clients, in the chain's
  // order; empty = every one.
  std::vector<std::string> authenticators;
  ListenerKind kind = ListenerKind::tcp;
  // [listeners.ssl.NAME] and [listeners.wss.NAME] only (bind defaults to 0.0.0.0:8883
  // and 0.0.0.0:8084 there).
  std::string certfile;    // PEM server certificate, followed by its intermediates
  std::string keyfile;     // PEM private key
  std::string password;    // keyfile's passphrase, when it is encrypted
  std::string cacertfile;  // PEM CAs that client certificates must chain to
  TlsVerify verify = TlsVerify::verify_none;
  bool fail_if_no_peer_cert = false;
  PeerCertAsUsername peer_cert_as_username = PeerCertAsUsername::disabled;
  TlsMinVersion tls_min_version = TlsMinVersion::tls1_2;
  std::string ciphers;  // "" = OpenSSL's defaults
  // [listeners.ws.NAME] and [listeners.wss.NAME] only (bind 0.0.0.0:8083, 0.0.0.0:8084).
  std::string mqtt_path = "/mqtt";      // the HTTP path of the upgrade request
  bool fail_if_no_subprotocol = false;  // refuse an upgrade that offers no "mqtt"
  bool check_origin_enable = false;     // only check_origins may open a connection
  bool allow_origin_absence = true;     // with check_origin_enable: no Origin is fine
  std::string check_origins;            // "https://a.example, https://b.example"

  // "ssl:default", "ws:default"; a tcp listener is known by its bare name, as before ssl
  // existed.
  std::string id() const {
    return kind == ListenerKind::tcp ? name : listener_kind_name(kind) + (":" + name);
  }

  friend bool operator==(const TcpListenerConfig&, const TcpListenerConfig&) = default;
};

// Where a table was written, for the errors found once the whole configuration is read.
// Not part of the value: two configurations that differ only in where they were written
// are equal (print_config's output reads back to an equal Config).
struct Origin {
  std::string where;  // "cicada.toml:12", "environment variable CICADA_AUTH__HTTP__URL"
  std::string key;    // "authentication[2]", "auth.http"
  friend bool operator==(const Origin&, const Origin&) noexcept { return true; }
};

// The backends of an [[authentication]] table, and their [auth.BACKEND] sections.
enum class AuthBackend { password_file, jwt, http };
constexpr const char* auth_backend_name(AuthBackend backend) noexcept {
  constexpr const char* names[] = {"password_file", "jwt", "http"};
  return names[static_cast<int>(backend)];
}
// The types of an [[authorization.sources]] table; [authorization.acl_file] is a file one.
enum class AuthzType { file, http };
constexpr const char* authz_type_name(AuthzType type) noexcept {
  constexpr const char* names[] = {"file", "http"};
  return names[static_cast<int>(type)];
}

// One authenticator (an [[authentication]] table or an [auth.BACKEND] section), with the
// keys of every backend; only its backend's are read. Key names after EMQX's.
struct AuthenticatorConfig {
  AuthBackend backend = AuthBackend::password_file;
  std::string name;    // unique; defaults to the backend's name. Listeners list these.
  bool enable = true;  // false: kept in the file, asked by nobody
  Origin origin;
  // password_file: mosquitto_passwd's format, reloaded on SIGHUP.
  std::string path;
  std::string superusers;  // comma-separated user names that bypass authorization
  // jwt: a JWT in the password (or user name).
  std::string algorithm;                // hmac-based | public-key (required)
  std::string secret;                   // hmac-based
  bool secret_base64_encoded = false;   //
  std::string public_key;               // public-key: PEM text, or a PEM file's path
  std::string from = "password";        // password | username
  std::string verify_claims;            // "claim=template, ..." e.g. "clientid=${clientid}"
  std::string acl_claim_name = "acl";   //
  bool disconnect_after_expire = true;  //
  // http: a service in EMQX's format.
  std::string url;
  std::string method = "post";  // post | get
  std::string body =
      R"({"clientid":"${clientid}","username":"${username}","password":"${password}"})";
  std::string headers;  // "Name: value" lines
  std::uint32_t request_timeout_ms = 5000;
  std::uint32_t connect_timeout_ms = 15000;
  std::uint32_t pool_size = 8;     // keep-alive connections
  bool on_error_deny = false;      // on_error: "ignore" | "deny" (service failed)
  std::uint32_t cache_ttl_ms = 0;  // 0 = no answer cache
  std::uint32_t cache_max_entries = 100000;
  std::uint64_t cache_max_bytes = 100ull << 20;
  // https:// URLs: EMQX's ssl.* keys.
  bool ssl_verify = true;  // ssl.verify: verify_peer | verify_none
  std::string ssl_cacertfile;
  std::string ssl_certfile;
  std::string ssl_keyfile;
  std::string ssl_server_name_indication;

  friend bool operator==(const AuthenticatorConfig&, const AuthenticatorConfig&) = default;
};

// One authorization source (an [[authorization.sources]] table, [authorization.acl_file]
// or [authorization.http]); only its type's keys are read.
struct AuthorizationSourceConfig {
  AuthzType type = AuthzType::file;
  std::string name;  // unique; defaults to the type's name
  bool enable = true;
  Origin origin;
  // file: Mosquitto's ACL syntax, reloaded on SIGHUP.
  std::string path;
  // http: a service in EMQX's format.
  std::string url;
  std::string method = "post";
  std::string body = R"({"clientid":"${clientid}","username":"${username}","topic":"${topic}",)"
                     R"("action":"${action}"})";
  std::string headers;
  std::uint32_t request_timeout_ms = 5000;
  std::uint32_t connect_timeout_ms = 15000;
  std::uint32_t pool_size = 8;
  bool on_error_deny = false;
  std::uint32_t cache_ttl_ms = 0;
  std::uint32_t cache_max_entries = 100000;
  std::uint64_t cache_max_bytes = 100ull << 20;
  bool ssl_verify = true;
  std::string ssl_cacertfile;
  std::string ssl_certfile;
  std::string ssl_keyfile;
  std::string ssl_server_name_indication;

  friend bool operator==(const AuthorizationSourceConfig&,
                         const AuthorizationSourceConfig&) = default;
};

// mqtt.shared_subscription_strategy: how a $share group picks the member that gets a message.
enum class SharedStrategy { round_robin, random, sticky, hash_clientid, hash_topic };

struct Config {
  // Every listener, of every kind (default: one, tcp "default" on 0.0.0.0:1883).
  std::vector<TcpListenerConfig> tcp_listeners;
  // [mqtt]
  std::uint32_t max_packet_size = 1 << 20;  // "1MB"; bounds 128 B .. 268435460
  std::uint16_t max_clientid_len = 65535;   // 23..65535
  std::uint16_t max_topic_levels = 128;     // 1..65535
  std::uint16_t max_topic_length = 65535;   // bytes of a topic name or filter, 1..65535
  std::uint16_t max_topic_alias = 65535;    // 0..65535 (0 disables inbound aliases)
  std::uint16_t max_inflight = 32;          // 1..65535, Receive Maximum advertised
  std::uint32_t max_mqueue_len = 1000;      // 0..  queued messages per session
  bool mqueue_store_qos0 = true;
  std::uint16_t max_keepalive = 65535;  // seconds, 1..65535
  bool retain_available = true;
  bool wildcard_subscription = true;
  bool shared_subscription = true;
  SharedStrategy shared_subscription_strategy = SharedStrategy::round_robin;
  std::uint8_t max_qos_allowed = 2;              // 0..2
  std::uint32_t max_subscriptions = 0;           // 0 = unlimited
  std::uint32_t session_expiry_interval = 7200;  // seconds ("2h"): upper bound / default for
                                                 // 3.1.1 persistent sessions
  std::uint32_t max_awaiting_rel = 100;          // inbound QoS 2 awaiting PUBREL per session
  std::uint32_t await_rel_timeout = 300;         // seconds ("300s")
  std::uint32_t idle_timeout_ms = 15000;       // "15s": CONNECT timeout for sockets that never send
                                               // CONNECT
  std::uint64_t max_outbound_bytes = 8 << 20;  // "8MB": per-connection unsent bytes before the
                                               // client is disconnected
  bool ignore_loop_deliver = false;  // EMQX name: don't send a 3.1.1 client its own publishes
  std::string response_information;  // "" = not sent
  // Per-client publish rate limits (back-pressure: the socket is not read meanwhile).
  std::uint32_t messages_rate = 0;  // PUBLISH packets per second; 0 = no limit
  std::uint64_t bytes_rate = 0;     // PUBLISH bytes per second; 0 = no limit
  // [retainer]
  bool retainer_enable = true;
  std::uint64_t retainer_max_retained_messages = 1'000'000;  // 0 = unlimited
  std::uint64_t retainer_max_bytes = 1ull << 30;             // "1GB" total payload bytes
  std::uint32_t retainer_max_payload_size = 1 << 20;         // "1MB"
  std::uint32_t retainer_max_deliver_per_subscribe = 10000;  // retained messages one SUBSCRIBE
                                                             // may receive
  // [sys_topics]: the $SYS tree is published every this many seconds; 0 = never.
  std::uint32_t sys_msg_interval = 60;
  // [authorization]: the answer when no source matched, and what a refusal costs.
  bool authorization_no_match_allow = true;    // "allow" | "deny"
  bool authorization_deny_disconnect = false;  // deny_action: "ignore" | "disconnect"
  // The authentication chain, in order: the [[authentication]] tables, or the [auth.*]
  // sections (password_file, jwt, http, in that order). Empty: no authenticator.
  std::vector<AuthenticatorConfig> authentication;
  // The authorization chain, in order: the [[authorization.sources]] tables, or
  // [authorization.acl_file] then [authorization.http].
  std::vector<AuthorizationSourceConfig> authorization_sources;
  // [node]
  std::uint32_t worker_threads = 0;        // 0 = one per core; 0..1024
  std::uint64_t node_max_connections = 0;  // all listeners together; 0 = no limit
  // A failed authentication is answered this much later (brute-force brake); 0 = at once.
  std::uint32_t auth_failure_delay_ms = 1000;
  // An address with this many failed authentications within the window is banned (0x8A)
  // for auth_failure_ban; 0 = never.
  std::uint32_t auth_failure_limit = 0;
  std::uint32_t auth_failure_window_ms = 60'000;
  std::uint32_t auth_failure_ban_ms = 300'000;
  // [log]
  std::string log_level = "info";  // trace, debug, info, warning, error, critical, off

  friend bool operator==(const Config&, const Config&) = default;
};

// Start-up errors: "<file>:<line>: <key>: <what was expected>",
// "environment variable CICADA_...: <key>: ..." or "--flag: ...".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What main() needs from the command line.
struct CommandLine {
  std::optional<std::string> config_file;
  bool print_config = false;
  bool exit_now = false;  // --help / --version printed; exit with exit_code
  int exit_code = 0;
  // key path -> value, e.g. {"node.worker_threads","4"}; from --threads, --log-level, --set.
  std::vector<std::pair<std::string, std::string>> overrides;
  std::vector<std::string> listen;  // --listen HOST:PORT, repeatable
};

// CLI11; prints --help / --version to stdout (and sets exit_now); throws ConfigError on a bad
// flag (the message says which).
CommandLine parse_command_line(int argc, char** argv);

// Built-in defaults < file (if any) < environment (CICADA_*) < command line. Throws
// ConfigError with "<file>:<line>: <key>: <what was expected>" (or "environment variable
// CICADA_...: ..." / "--flag: ..."). --listen adds listeners "cli-1", ...; the built-in
// "default" listener exists only when neither file, environment nor --listen names one.
Config load_config(const CommandLine& cli, const std::map<std::string, std::string>& environment);

// Only the CICADA_* entries of a NAME=VALUE array such as main()'s envp or `environ`.
std::map<std::string, std::string> environment_from(char** envp);

// The effective configuration as TOML that load_config reads back to the same Config.
std::string print_config(const Config& config);

// The options table of docs/config.md, generated from the declarative table.
std::string options_markdown();

}  // namespace cicada::broker
