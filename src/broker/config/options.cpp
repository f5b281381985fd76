// The declarative options table. Key names follow EMQX where the two brokers share an
// option (mqtt.*, retainer.*), so an EMQX user's knowledge and documentation carry over.
// A row's default is the text a file would hold; load_config starts from these defaults,
// and a unit test checks that they agree with the member initialisers in config.hpp.
#include "broker/config/options.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "broker/config/option_rows.hpp"

namespace cicada::broker::config {
namespace {

using namespace rows;  // NOLINT(google-build-using-namespace): the row builders

void set_bind(TcpListenerConfig& listener, const OptionValue& value) {
  // Already validated and normalised by the loader.
  const auto host_port = parse_host_port(std::get<std::string>(value));
  listener.host = host_port->host;
  listener.port = host_port->port;
}
OptionValue get_bind(const TcpListenerConfig& listener) {
  return format_host_port(listener.host, listener.port);
}

// In the order of SharedStrategy's enumerators; EMQX's names.
constexpr std::array<std::string_view, 5> kSharedStrategies{"round_robin", "random", "sticky",
                                                            "hash_clientid", "hash_topic"};
// spdlog's level names.
constexpr std::array<std::string_view, 7> kLogLevels{"trace", "debug",    "info", "warning",
                                                     "error", "critical", "off"};

// Answers of authorization.no_match, in the order of a bool (false = deny).
constexpr std::array<std::string_view, 2> kNoMatch{"deny", "allow"};

void set_no_match(Config& c, const OptionValue& value) {
  c.authorization_no_match_allow = std::get<std::string>(value) == "allow";
}
OptionValue get_no_match(const Config& c) {
  return std::string(kNoMatch[c.authorization_no_match_allow ? 1 : 0]);
}

// Answers of authorization.deny_action, in the order of a bool (true = disconnect).
constexpr std::array<std::string_view, 2> kDenyActions{"ignore", "disconnect"};

void set_deny_action(Config& c, const OptionValue& value) {
  c.authorization_deny_disconnect = std::get<std::string>(value) == "disconnect";
}
OptionValue get_deny_action(const Config& c) {
  return std::string(kDenyActions[c.authorization_deny_disconnect ? 1 : 0]);
}

using T = OptionType;
using C = Config;

constexpr std::array kOptions{
    // [mqtt]
    number<&C::max_packet_size>(
        T::size, "mqtt.max_packet_size", "1MB", 128, kMaxMqttPacket, reloadable,
        "Largest MQTT packet accepted from a client, fixed header included; advertised as "
        "Maximum Packet Size in MQTT 5 CONNACK. Larger packets close the connection."),
    number<&C::max_clientid_len>(T::integer, "mqtt.max_clientid_len", "65535", 23, kU16, reloadable,
                                 "Longest Client Identifier accepted in CONNECT, in bytes "
                                 "([MQTT-3.1.3-5] requires at least 23)."),
    number<&C::max_topic_levels>(T::integer, "mqtt.max_topic_levels", "128", 1, kU16, reloadable,
                                 "Most '/'-separated levels in a topic name or filter."),
    number<&C::max_topic_length>(T::integer, "mqtt.max_topic_length", "65535", 1, kU16, reloadable,
                                 "Longest topic name or filter accepted, in bytes. A longer "
                                 "PUBLISH topic is refused (MQTT 5: 0x90), a longer filter gets "
                                 "SUBACK 0x8F (3.1.1: 0x80)."),
    number<&C::max_topic_alias>(T::integer, "mqtt.max_topic_alias", "65535", 0, kU16, reloadable,
                                "Topic Alias Maximum advertised to MQTT 5 clients; 0 disables "
                                "inbound topic aliases. A connection's aliased topics may take "
                                "1 MiB in all; past that it is disconnected with 0x97."),
    number<&C::max_inflight>(T::integer, "mqtt.max_inflight", "32", 1, kU16, reloadable,
                             "QoS 1 and 2 messages sent to a client and not yet acknowledged; "
                             "advertised as Receive Maximum."),
    number<&C::max_mqueue_len>(T::integer, "mqtt.max_mqueue_len", "1000", 0, kU32, reloadable,
                               "Messages queued per session while the client is offline or its "
                               "inflight window is full. When full, the oldest QoS 0 message "
                               "is dropped first, then the oldest. 0 queues nothing."),
    boolean<&C::mqueue_store_qos0>("mqtt.mqueue_store_qos0", "true", reloadable,
                                   "Also queue QoS 0 messages for offline sessions."),
    number<&C::max_keepalive>(T::duration, "mqtt.max_keepalive", "65535s", 1, kU16, reloadable,
                              "Longest Keep Alive accepted; MQTT 5 clients asking for more are "
                              "told this value as Server Keep Alive."),
    boolean<&C::retain_available>("mqtt.retain_available", "true", reloadable,
                                  "Accept retained messages (Retain Available)."),
    boolean<&C::wildcard_subscription>("mqtt.wildcard_subscription", "true", reloadable,
                                       "Accept subscriptions with + and # (Wildcard Subscription "
                                       "Available)."),
    boolean<&C::shared_subscription>("mqtt.shared_subscription", "true", reloadable,
                                     "Accept $share/ subscriptions (Shared Subscription "
                                     "Available)."),
    choice<&C::shared_subscription_strategy, kSharedStrategies>(
        "mqtt.shared_subscription_strategy", "round_robin", reloadable,
        "How a shared subscription group picks the member that receives a message."),
    number<&C::max_qos_allowed>(T::integer, "mqtt.max_qos_allowed", "2", 0, 2, reloadable,
                                "Highest QoS granted to subscriptions and accepted in PUBLISH "
                                "(Maximum QoS)."),
    number<&C::max_subscriptions>(T::integer, "mqtt.max_subscriptions", "0", 0, kU32, reloadable,
                                  "Subscriptions per session; 0 = unlimited."),
    number<&C::session_expiry_interval>(
        T::duration, "mqtt.session_expiry_interval", "2h", 0, kU32, reloadable,
        "Longest Session Expiry Interval granted to MQTT 5 clients, and the expiry of MQTT "
        "3.1.1 sessions with Clean Session 0."),
    number<&C::max_awaiting_rel>(T::integer, "mqtt.max_awaiting_rel", "100", 1, kU32, reloadable,
                                 "Inbound QoS 2 messages per session waiting for their PUBREL."),
    number<&C::await_rel_timeout>(T::duration, "mqtt.await_rel_timeout", "5m", 1, kU32, reloadable,
                                  "How long an inbound QoS 2 message waits for its PUBREL before "
                                  "it is dropped."),
    number<&C::idle_timeout_ms>(T::duration, "mqtt.idle_timeout", "15s", 1, 86'400'000, reloadable,
                                "How long a new connection may stay without sending CONNECT "
                                "before it is closed.",
                                /*milliseconds=*/true),
    number<&C::max_outbound_bytes>(T::size, "mqtt.max_outbound_bytes", "8MB", 1ull << 10,
                                   1ull << 40, reloadable,
                                   "Unsent bytes queued for one connection before that client is "
                                   "disconnected as too slow."),
    boolean<&C::ignore_loop_deliver>("mqtt.ignore_loop_deliver", "false", reloadable,
                                     "Do not send MQTT 3.1.1 clients the messages they published "
                                     "themselves (MQTT 5 clients use No Local)."),
    text<&C::response_information>("mqtt.response_information", "", kU16, reloadable,
                                   "Response Information sent to MQTT 5 clients that request it; "
                                   "empty = not sent."),
    number<&C::messages_rate>(T::integer, "mqtt.messages_rate", "0", 0, kU32, reloadable,
                              "PUBLISH packets per second one client may send (burst: one "
                              "second's worth); 0 = no limit. Above it the broker stops "
                              "reading the client's socket until its bucket refills: nothing "
                              "is dropped, TCP slows the publisher."),
    number<&C::bytes_rate>(T::size, "mqtt.bytes_rate", "0", 0, 1ull << 40, reloadable,
                           "PUBLISH bytes per second one client may send (burst: one second's "
                           "worth; one larger packet still passes, then the client waits "
                           "until it is paid back); 0 = no limit. Back-pressure as for "
                           "mqtt.messages_rate."),
    // [retainer]
    boolean<&C::retainer_enable>("retainer.enable", "true", restart,
                                 "Store retained messages and deliver them to new subscribers."),
    number<&C::retainer_max_retained_messages>(T::integer, "retainer.max_retained_messages",
                                               "1000000", 0, kU32, reloadable,
                                               "Most retained messages stored; 0 = unlimited."),
    number<&C::retainer_max_bytes>(T::size, "retainer.max_bytes", "1GB", 1, 1ull << 40, reloadable,
                                   "Most payload bytes held by all retained messages together."),
    number<&C::retainer_max_payload_size>(T::size, "retainer.max_payload_size", "1MB", 1,
                                          kMaxMqttPacket, reloadable,
                                          "Largest payload kept as a retained message."),
    number<&C::retainer_max_deliver_per_subscribe>(
        T::integer, "retainer.max_deliver_per_subscribe", "10000", 1, kU32, reloadable,
        "Most retained messages one SUBSCRIBE receives."),
    // [sys_topics]: EMQX's key; Mosquitto calls it sys_interval (10 s by default).
    number<&C::sys_msg_interval>(T::duration, "sys_topics.sys_msg_interval", "1m", 0, 86'400,
                                 restart,
                                 "How often the broker publishes its figures as retained "
                                 "messages under $SYS/broker/ (docs/monitoring.md), only those "
                                 "that changed since the last time; 0s = no $SYS tree."),
    // [authorization]: the chain itself is [[authorization.sources]] (auth_options.cpp).
    OptionSpec<Config>{.key = "authorization.no_match",
                       .type = T::enumeration,
                       .default_value = "allow",
                       .reloadable = restart,
                       .choices = kNoMatch,
                       .description = "Answer to a publish or subscribe that no authorization "
                                      "source (ACL file line) matched.",
                       .set = set_no_match,
                       .get = get_no_match},
    OptionSpec<Config>{.key = "authorization.deny_action",
                       .type = T::enumeration,
                       .default_value = "ignore",
                       .reloadable = restart,
                       .choices = kDenyActions,
                       .description = "What a denied PUBLISH or SUBSCRIBE costs the client "
                                      "(EMQX's deny_action): ignore = the refusal only "
                                      "(PUBACK/PUBREC/SUBACK 0x87, a 3.1.1 PUBLISH dropped, "
                                      "SUBACK 0x80); disconnect = the connection too (MQTT 5 "
                                      "DISCONNECT 0x87 first).",
                       .set = set_deny_action,
                       .get = get_deny_action},
    // [node]
    number<&C::worker_threads>(T::integer, "node.worker_threads", "0", 0, 1024, restart,
                               "Event-loop worker threads; 0 = one per CPU core."),
    number<&C::node_max_connections>(T::integer, "node.max_connections", "0", 0, kU32, restart,
                                     "Most concurrent connections on all listeners together; "
                                     "0 = only the listeners' own limits. A connection over it "
                                     "is closed as soon as it is accepted."),
    number<&C::auth_failure_delay_ms>(T::duration, "node.auth_failure_delay", "1s", 0, 60'000,
                                      reloadable,
                                      "How long a client whose authentication failed waits for "
                                      "its refusing CONNACK (a timer; the worker goes on serving "
                                      "others), so a password guesser gets few tries a second. "
                                      "0 = refuse at once.",
                                      /*milliseconds=*/true),
    number<&C::auth_failure_limit>(
        T::integer, "node.auth_failure_limit", "0", 0, 1'000'000, restart,
        "Failed authentications from one IP address within node.auth_failure_window that "
        "ban it for node.auth_failure_ban: its clients are then refused 0x8A Banned (3.1.1: "
        "5) without asking any authenticator. 0 = no bans. Clients behind one NAT share "
        "an address: leave room for their retries."),
    number<&C::auth_failure_window_ms>(T::duration, "node.auth_failure_window", "1m", 1000,
                                       86'400'000, restart,
                                       "The window node.auth_failure_limit counts failures in.",
                                       /*milliseconds=*/true),
    number<&C::auth_failure_ban_ms>(T::duration, "node.auth_failure_ban", "5m", 1000, 86'400'000,
                                    restart, "How long a ban lasts.",
                                    /*milliseconds=*/true),
    // [log]
    choice<&C::log_level, kLogLevels>("log.level", "info", reloadable,
                                      "Least severe level written to the log."),
};

using L = TcpListenerConfig;

constexpr std::array kListenerOptions{
    ListenerOption{.key = "bind",
                   .type = T::bind,
                   .default_value = "0.0.0.0:1883",
                   .reloadable = restart,
                   .description = "Address and port to listen on: HOST:PORT, [IPv6]:PORT or a "
                                  "bare PORT; port 0 picks a free port.",
                   .set = set_bind,
                   .get = get_bind},
    number<&L::max_connections>(T::integer, "max_connections", "1000000", 1, kU32, restart,
                                "Most concurrent connections on this listener."),
    boolean<&L::enabled>("enabled", "true", restart,
                         "Set to false to keep the table but not "
                         "listen."),
    boolean<&L::allow_anonymous>("allow_anonymous", "true", restart,
                                 "Accept clients that no authenticator recognised: those "
                                 "that send no user name and, when no authenticator is "
                                 "configured, every client."),
    number<&L::max_conn_rate>(T::integer, "max_conn_rate", "0", 0, kU32, restart,
                              "New connections accepted per second on this listener (burst: "
                              "one second's worth); 0 = no limit. Above it the listener stops "
                              "accepting for a while: new clients wait in the kernel's backlog "
                              "instead of costing the workers anything."),
    names<&L::authenticators>("authenticators", restart,
                              "Names of the authenticators ([[authentication]] name, or the "
                              "backend's name) asked for this listener's clients, in the "
                              "chain's order; empty = every one. Superuser rights and "
                              "allow_anonymous's 'no authenticator' case follow this list."),
};

// In the order of the enums in config.hpp.
constexpr std::array<std::string_view, 2> kTlsVerify{"verify_none", "verify_peer"};
constexpr std::array<std::string_view, 2> kTlsMinVersions{"tlsv1.2", "tlsv1.3"};
constexpr std::array<std::string_view, 3> kPeerCertAsUsername{"disabled", "cn", "dn"};

// Each kind's own bind row: the same key with its conventional port (DESIGN.md).
constexpr ListenerOption bind_row(std::string_view default_value, std::string_view description) {
  return {.key = "bind",
          .type = T::bind,
          .default_value = default_value,
          .reloadable = restart,
          .description = description,
          .set = set_bind,
          .get = get_bind};
}
constexpr std::array kSslBind{bind_row("0.0.0.0:8883",
                                       "Address and port to listen on for MQTT over TLS (8883 by "
                                       "convention).")};
constexpr std::array kWsBind{bind_row("0.0.0.0:8083",
                                      "Address and port to listen on for MQTT over WebSocket "
                                      "(8083 by convention).")};
constexpr std::array kWssBind{bind_row("0.0.0.0:8084",
                                       "Address and port to listen on for MQTT over WebSocket "
                                       "over TLS (8084 by convention). A wss listener has every "
                                       "key of the ssl and ws listeners too.")};

// The TLS keys of ssl and wss listeners: EMQX's key names (its 4.x flat form; 5.x nests
// them under ssl_options).
constexpr std::array kTlsListenerOptions{
    text<&L::certfile>("certfile", "", 4096, restart,
                       "PEM file with the server certificate, followed by any intermediate "
                       "certificates; its content is reread on SIGHUP. Required."),
    text<&L::keyfile>("keyfile", "", 4096, restart,
                      "PEM file with the server certificate's private key (unencrypted); "
                      "its content is reread on SIGHUP. Required."),
    text<&L::password>("password", "", 1024, restart,
                       "Passphrase of an encrypted keyfile (EMQX's ssl_options.password); "
                       "without it such a key stops start-up instead of asking on a terminal. "
                       "--print-config shows it: keep the file private."),
    text<&L::cacertfile>("cacertfile", "", 4096, restart,
                         "PEM file with the CA certificates that client certificates must "
                         "chain to; its content is reread on SIGHUP. Required with verify_peer."),
    choice<&L::verify, kTlsVerify>("verify", "verify_none", restart,
                                   "verify_peer: ask clients for a certificate and refuse one "
                                   "that does not verify against cacertfile; verify_none: "
                                   "ask for none."),
    boolean<&L::fail_if_no_peer_cert>("fail_if_no_peer_cert", "false", restart,
                                      "With verify_peer: refuse clients that send no "
                                      "certificate (mutual TLS)."),
    choice<&L::peer_cert_as_username, kPeerCertAsUsername>(
        "peer_cert_as_username", "disabled", restart,
        "cn or dn: the verified client certificate's common name or full subject (RFC 2253) "
        "becomes the client's user name for authentication and authorization, replacing the "
        "one in CONNECT; a client without a certificate then has none."),
    choice<&L::tls_min_version, kTlsMinVersions>("tls_min_version", "tlsv1.2", restart,
                                                 "Oldest TLS version accepted; TLS 1.0 and "
                                                 "1.1 are never accepted (RFC 8996)."),
    text<&L::ciphers>("ciphers", "", 4096, restart,
                      "OpenSSL cipher names separated by commas: TLS 1.3 suites "
                      "(TLS_AES_128_GCM_SHA256) and TLS 1.2 ciphers "
                      "(ECDHE-RSA-AES128-GCM-SHA256) may be mixed; empty: OpenSSL's "
                      "defaults."),
};

// The WebSocket keys of ws and wss listeners: EMQX's websocket.* names, flat as the TLS
// keys are.
constexpr std::array kWebSocketListenerOptions{
    text<&L::mqtt_path>("mqtt_path", "/mqtt", 1024, restart,
                        "HTTP path of the WebSocket upgrade, starting with '/'; the query "
                        "string is ignored. A request for another path gets 404."),
    boolean<&L::fail_if_no_subprotocol>(
        "fail_if_no_subprotocol", "false", restart,
        "Refuse (HTTP 400) an upgrade whose Sec-WebSocket-Protocol offers neither mqtt nor "
        "mqttv3.1, as the MQTT spec asks of clients [MQTT-6.0.0-3]. Off: such a client is "
        "accepted and its 101 names no subprotocol. A client that offers one always gets "
        "mqtt (or mqttv3.1) back [MQTT-6.0.0-4]."),
    boolean<&L::check_origin_enable>(
        "check_origin_enable", "false", restart,
        "Accept an upgrade only from the origins in check_origins (the Origin header "
        "browsers send, RFC 6455 10.2); others get HTTP 403. Clients that are not "
        "browsers send no Origin: see allow_origin_absence."),
    boolean<&L::allow_origin_absence>("allow_origin_absence", "true", restart,
                                      "With check_origin_enable: accept an upgrade that "
                                      "has no Origin header (any client but a browser)."),
    text<&L::check_origins>("check_origins", "", 4096, restart,
                            "Origins allowed with check_origin_enable, separated by commas, "
                            "each as browsers send it: scheme://host[:port], compared "
                            "case-insensitively."),
};

template <class Spec, std::size_t N>
const Spec* find_in(const std::array<Spec, N>& table, std::string_view key) {
  for (const Spec& spec : table) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

}  // namespace

std::span<const Option> options() {
  return kOptions;
}
std::span<const ListenerOption> listener_options() {
  return kListenerOptions;
}
const Option* find_option(std::string_view key) {
  return find_in(kOptions, key);
}
const ListenerOption* find_listener_option(std::string_view key) {
  return find_in(kListenerOptions, key);
}
std::vector<const ListenerOption*> kind_listener_options(ListenerKind kind) {
  std::vector<const ListenerOption*> rows;
  auto add = [&rows](std::span<const ListenerOption> table) {
    for (const ListenerOption& o : table)
      rows.push_back(&o);
  };
  switch (kind) {
    case ListenerKind::tcp:
      break;
    case ListenerKind::ssl:
      add(kSslBind);
      break;
    case ListenerKind::ws:
      add(kWsBind);
      break;
    case ListenerKind::wss:
      add(kWssBind);
      break;
  }
  if (uses_tls(kind)) add(kTlsListenerOptions);
  if (uses_websocket(kind)) add(kWebSocketListenerOptions);
  return rows;
}
const ListenerOption* find_listener_option(ListenerKind kind, std::string_view key) {
  for (const ListenerOption* o : kind_listener_options(kind)) {
    if (o->key == key) return o;
  }
  return find_in(kListenerOptions, key);
}

}  // namespace cicada::broker::config
