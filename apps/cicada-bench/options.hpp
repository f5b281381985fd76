// Options: everything the command line can say, as one immutable snapshot handed to
// the scenario once finalize() has filled in the derived fields and checked ranges and
// combinations. main.cpp declares the flags; docs/bench.md lists them.
// Thread-safety: plain value, read-only once finalized.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/base/expected.hpp>
#include <cicada/codec/types.hpp>

#include "tls_stream.hpp"

namespace cicada::bench {

enum class Scenario : std::uint8_t { conn, pub, sub, pubsub };
std::string_view to_string(Scenario scenario) noexcept;

struct Options {
  Scenario scenario = Scenario::pub;

  // Broker. --url wins over -h / -p when given.
  std::string url;
  std::string host = "localhost";
  std::uint16_t port = 1883;
  bool tls = false;  // mqtts:// or --tls
  TlsOptions tls_options;
  bool websocket = false;         // ws:// or wss://, or --ws
  std::string ws_path = "/mqtt";  // the upgrade's path; a ws:// URL's own path wins
  std::string version_text = "5";
  codec::ProtocolVersion version = codec::ProtocolVersion::v5;  // from version_text

  // Clients.
  std::uint32_t count = 200;  // connections (conn), publishers (pub, pubsub), subscribers (sub)
  std::uint64_t start_number = 0;
  double connect_interval_ms = 10;
  double connect_rate = 0;  // connections/s; wins over connect_interval_ms when > 0
  std::string prefix;       // client id prefix; "cicada-bench-<pid>" ("cb<pid>" for 3.1) when empty
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::uint16_t keep_alive = 300;
  bool clean_start = true;
  std::optional<std::uint32_t> session_expiry;  // MQTT 5 Session Expiry Interval
  std::vector<std::string> ifaddrs;
  unsigned threads = 0;  // 0: one per core
  double connect_timeout_s = 10;
  double max_fail_percent = 0;

  // Messages.
  std::string topic;  // "cicada-bench/%i" to publish, "cicada-bench/#" to subscribe
  unsigned qos = 0;
  std::size_t payload_size = 256;
  bool retain = false;
  double publish_interval_ms = 1000;  // per publisher; 0: as fast as the socket takes
  double rate = 0;                    // total msg/s over all publishers; wins over -I
  std::uint64_t limit = 0;            // pub: messages in all; sub: stop after; 0: none
  std::uint32_t inflight = 64;        // QoS 1/2 window per publisher

  // pubsub: the subscribing side.
  std::uint32_t subscribers = 1;
  std::string sub_topic;  // default: the publish topic with per-client levels as '+'
  std::optional<unsigned> sub_qos;

  // Run.
  double duration_s = 0;  // 0: until -L is reached or Ctrl-C
  double drain_s = 5;     // after publishing stops: wait at most this for acks and deliveries
  bool quiet = false;     // no progress lines
};

struct BrokerUrl {
  std::string host;
  std::uint16_t port = 1883;  // 8883 for mqtts://, 8083 for ws://, 8084 for wss://
  bool tls = false;
  bool websocket = false;
  std::optional<std::string> path;  // ws:// and wss:// only, when the URL has one
  std::optional<std::string> username;
  std::optional<std::string> password;
};

// mqtt://[user[:password]@]host[:port], host a name, an IPv4 address or [IPv6].
// mqtts:// (or ssl://) is MQTT over TLS; ws://...[/path] MQTT over WebSocket and
// wss://...[/path] over WebSocket over TLS.
Expected<BrokerUrl, std::string> parse_url(std::string_view url);

// "3", "31", "3.1", "mqttv31" -> 3.1; "4", "311", "3.1.1", "mqttv311" -> 3.1.1;
// "5", "mqttv5" -> 5.0.
Expected<codec::ProtocolVersion, std::string> parse_version(std::string_view text);

// The id of client `index` in role `role` ("pub", "sub", "conn"): PREFIX_ROLE_INDEX.
std::string client_id_of(std::string_view prefix, std::string_view role, std::uint64_t index);

// Fills the derived fields and checks ranges and combinations. Returns the error to
// show the user (exit code 2) or nullopt.
std::optional<std::string> finalize(Options& options);

}  // namespace cicada::bench
