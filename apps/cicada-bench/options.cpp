#include "options.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <thread>

#include "payload.hpp"
#include "topic_template.hpp"

namespace cicada::bench {

std::string_view to_string(Scenario scenario) noexcept {
  switch (scenario) {
    case Scenario::conn:
      return "conn";
    case Scenario::pub:
      return "pub";
    case Scenario::sub:
      return "sub";
    case Scenario::pubsub:
      return "pubsub";
  }
  return "?";
}

Expected<BrokerUrl, std::string> parse_url(std::string_view url) {
  using Result = Expected<BrokerUrl, std::string>;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return unexpected("--url '" + std::string(url) + "' has no scheme (want mqtt://host:port)");
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  BrokerUrl out;
  if (scheme == "mqtts" || scheme == "ssl") {
    out.tls = true;
    out.port = 8883;
  } else if (scheme == "ws") {
    out.websocket = true;
    out.port = 8083;
  } else if (scheme == "wss") {
    out.tls = out.websocket = true;
    out.port = 8084;
  } else if (scheme != "mqtt" && scheme != "tcp") {
    return unexpected("--url scheme '" + std::string(scheme) +
                      "' is unknown (want mqtt://, mqtts://, ws:// or wss://)");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    // The upgrade's path for WebSocket; over TCP a path means nothing.
    if (out.websocket) out.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view user_info = rest.substr(0, at);
    const std::size_t colon = user_info.find(':');
    out.username = std::string(user_info.substr(0, colon));
    if (colon != std::string_view::npos) out.password = std::string(user_info.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos)
      return unexpected(std::string("--url has an unclosed '[' in its host"));
    out.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return unexpected(std::string("--url has junk after ']'"));
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (out.host.empty()) return unexpected("--url '" + std::string(url) + "' has no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return unexpected("--url port '" + std::string(port_text) + "' is not in 1-65535");
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  return Result{std::move(out)};
}

Expected<codec::ProtocolVersion, std::string> parse_version(std::string_view text) {
  using codec::ProtocolVersion;
  using Result = Expected<ProtocolVersion, std::string>;
  for (std::string_view v : {"4", "311", "3.1.1", "mqttv311", "v311"}) {
    if (text == v) return Result{ProtocolVersion::v3_1_1};
  }
  for (std::string_view v : {"5", "5.0", "mqttv5", "v5"}) {
    if (text == v) return Result{ProtocolVersion::v5};
  }
  for (std::string_view v : {"3", "31", "3.1", "mqttv31", "v31"}) {
    if (text == v) return Result{ProtocolVersion::v3_1};
  }
  return unexpected("-V '" + std::string(text) + "' is not a protocol version (want 3, 4 or 5)");
}

namespace {

std::optional<std::string> check_ranges(const Options& o) {
  if (o.count == 0) return "-c must be at least 1";
  if (o.qos > 2) return "-q must be 0, 1 or 2";
  if (o.sub_qos && *o.sub_qos > 2) return "--sub-qos must be 0, 1 or 2";
  if (o.inflight == 0 || o.inflight > 65535) return "--inflight must be in 1-65535";
  if (o.connect_interval_ms < 0 || o.connect_rate < 0) return "-i / -R must not be negative";
  if (o.publish_interval_ms < 0 || o.rate < 0) return "-I / --rate must not be negative";
  if (o.duration_s < 0 || o.drain_s < 0) return "-d / --drain must not be negative";
  if (o.connect_timeout_s <= 0) return "--conn-timeout must be positive";
  if (o.max_fail_percent < 0 || o.max_fail_percent > 100) return "--max-fail must be in 0-100";
  if (o.threads > 256) return "--threads must be at most 256";
  const bool publishes = o.scenario == Scenario::pub || o.scenario == Scenario::pubsub;
  if (publishes && o.payload_size < payload_header_size) {
    return "-s must be at least " + std::to_string(payload_header_size) +
           " bytes: the payload carries publisher, sequence number and send time";
  }
  if (o.payload_size > 64 * 1024 * 1024) return "-s must be at most 64 MiB";
  if (o.scenario == Scenario::pubsub && o.subscribers == 0) return "--subs must be at least 1";
  return std::nullopt;
}

}  // namespace

std::string client_id_of(std::string_view prefix, std::string_view role, std::uint64_t index) {
  std::string id(prefix);
  id.append("_").append(role).append("_").append(std::to_string(index));
  return id;
}

std::optional<std::string> finalize(Options& o) {
  auto version = parse_version(o.version_text);
  if (!version) return version.error();
  o.version = *version;
  if (!o.url.empty()) {
    auto url = parse_url(o.url);
    if (!url) return url.error();
    o.host = url->host;
    o.port = url->port;
    o.tls = o.tls || url->tls;
    o.websocket = o.websocket || url->websocket;
    if (url->path) o.ws_path = *url->path;
    if (url->username && !o.username) o.username = url->username;
    if (url->password && !o.password) o.password = url->password;
  }
  if (o.password && !o.username && o.version != codec::ProtocolVersion::v5) {
    return "-P needs -u before MQTT 5 [MQTT-3.1.2-22]";
  }
  if (o.session_expiry && o.version != codec::ProtocolVersion::v5) {
    return "-x (session expiry) needs -V 5";
  }
  if (auto error = check_ranges(o)) return error;
  // The path goes into the request line as it is: no spaces or control characters.
  const bool plain_path = std::none_of(o.ws_path.begin(), o.ws_path.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (o.ws_path.empty() || o.ws_path[0] != '/' || !plain_path) {
    return "--ws-path '" + o.ws_path + "' must start with '/' and hold no spaces";
  }

  if (o.topic.empty()) {
    o.topic = o.scenario == Scenario::sub ? "cicada-bench/#" : "cicada-bench/%i";
  }
  if (auto error = check_template(o.topic)) return error;
  if (o.scenario == Scenario::pubsub) {
    if (o.sub_topic.empty()) o.sub_topic = wildcard_of(o.topic);
    if (auto error = check_template(o.sub_topic)) return error;
  }
  if (!o.sub_qos) o.sub_qos = o.qos;
  const bool v31 = o.version == codec::ProtocolVersion::v3_1;
  if (o.prefix.empty()) o.prefix = (v31 ? "cb" : "cicada-bench-") + std::to_string(::getpid());
  if (v31) {
    // MQTT 3.1 (§3.1, Client Identifier) allows 1 to 23 characters, and brokers refuse
    // longer ones: the longest id this run makes must fit, or nothing connects.
    const bool pubsub = o.scenario == Scenario::pubsub;
    const std::string_view role = o.scenario == Scenario::conn  ? "conn"
                                  : o.scenario == Scenario::sub ? "sub"
                                                                : "pub";
    // pub and sub are as long: the larger of the two counts makes the longest id.
    const std::uint32_t clients = pubsub ? std::max(o.count, o.subscribers) : o.count;
    const std::string longest = client_id_of(o.prefix, role, o.start_number + clients - 1);
    if (longest.size() > 23) {
      return "MQTT 3.1 client ids are at most 23 characters and '" + longest + "' has " +
             std::to_string(longest.size()) + ": shorten --prefix";
    }
  }
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  return std::nullopt;
}

}  // namespace cicada::bench
