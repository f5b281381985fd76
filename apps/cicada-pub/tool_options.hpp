// Command-line options shared by cicada-pub and cicada-sub, spelled like
// mosquitto_pub / mosquitto_sub so scripts written for those keep working.
// Thread-safety: plain values and functions; used by main() before any thread starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cicada/client/options.hpp>

namespace cicada::tools {

enum class Tool { pub, sub };

struct ToolOptions {
  Tool tool = Tool::pub;
  std::string host = "localhost";
  // Unset: 1883, or 8883 when TLS is asked for (as mosquitto_pub/sub); 8083 / 8084
  // for -L ws:// / wss://.
  std::optional<std::uint16_t> port;
  // "mqtt", "mqtts", "ws" or "wss": from -L, and mqtt becomes mqtts when TLS is asked
  // for with --cafile, --capath or --tls-use-os-certs.
  std::string scheme = "mqtt";
  client::TlsOptions tls;
  bool tls_requested = false;
  std::vector<std::string> topics;
  client::ProtocolVersion version = client::ProtocolVersion::v3_1_1;  // mosquitto's default
  client::QoS qos = client::QoS::at_most_once;
  std::optional<std::string> client_id;
  std::optional<std::string> id_prefix;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::uint16_t keep_alive = 60;
  bool clean_session = true;
  std::optional<std::uint32_t> session_expiry;
  std::optional<client::WillOptions> will;
  std::optional<std::string> will_topic;
  // -D connect|will|publish|subscribe|unsubscribe <property> <value> [<value>] (MQTT 5)
  client::MessageProperties publish_properties;
  std::vector<std::pair<std::string, std::string>> connect_user_properties;
  std::optional<std::uint16_t> receive_maximum;          // -D connect receive-maximum
  std::optional<std::uint32_t> maximum_packet_size;      // -D connect maximum-packet-size
  std::optional<std::uint16_t> topic_alias_maximum;      // -D connect topic-alias-maximum
  std::optional<bool> request_problem_information;       // -D connect request-problem-...
  std::optional<bool> request_response_information;      // -D connect request-response-...
  std::optional<std::string> authentication_method;      // -D connect authentication-method
  std::optional<std::string> authentication_data;        // -D connect authentication-data
  client::MessageProperties will_properties;             // -D will (with --will-topic)
  std::optional<std::uint32_t> will_delay;               // -D will will-delay-interval
  client::SubscribeProperties subscribe_properties;      // -D subscribe (cicada-sub)
  client::UnsubscribeProperties unsubscribe_properties;  // -D unsubscribe (cicada-sub)
  client::DisconnectProperties disconnect_properties;    // -D disconnect
  bool properties_given = false;
  bool debug = false;
  bool quiet = false;
  bool help = false;

  // cicada-pub
  std::optional<std::string> message;  // -m, -f, -s, -n fill this
  bool lines = false;                  // -l
  bool retain = false;                 // -r
  std::optional<std::string> store;    // --store DIR: the library's file store
  bool store_sync = false;             // --store-sync: fsync every change

  // cicada-sub
  std::vector<std::string> unsubscribe_topics;  // -U, sent after the subscriptions
  std::optional<std::uint64_t> count;           // -C
  std::optional<std::uint32_t> timeout;         // -W seconds
  bool no_retained = false;                     // -R
  bool no_newline = false;                      // -N
  bool verbose = false;                         // -v
  std::optional<std::string> format;            // -F
  bool reconnect = true;                        // --no-reconnect turns it off
};

struct ParseOutcome {
  ToolOptions options;
  std::string error;  // empty: parsed fine
};

ParseOutcome parse_tool_options(Tool tool, int argc, char** argv);

// "Error: <text>\nUse '<tool> --help' to see usage." on stderr, unless quiet.
void print_usage_error(Tool tool, const std::string& error, bool quiet);
void print_help(Tool tool);

// The exit code for a client that could not connect, as mosquitto_pub/sub exit: the
// CONNACK's refusal code when the broker refused (MQTT 5: its reason code, 0x87 -> 135;
// 3.1.1: its return code, 1..5), 8 (MOSQ_ERR_TLS) for a failed TLS handshake, else 1.
int connect_failure_exit_code(const client::Error& error, client::ProtocolVersion version);

// The client options the flags describe.
client::ClientOptions client_options(const ToolOptions& options);

}  // namespace cicada::tools
