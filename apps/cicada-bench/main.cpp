// cicada-bench: an MQTT load generator in the manner of emqtt-bench, speaking MQTT
// through Cicada's own codec. This file declares the flags (docs/bench.md lists them
// all); scenario.cpp runs what they ask for.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "options.hpp"
#include "scenario.hpp"

namespace {

using cicada::bench::Options;
using cicada::bench::Scenario;

// Flags whose values arrive as text and become optional fields after parsing.
struct RawFlags {
  std::string username, password;
  std::uint32_t session_expiry = 0;
  unsigned sub_qos = 0;
};

void add_common(CLI::App& app, Options& o, RawFlags& raw) {
  // -h is the broker host, as in emqtt-bench and mosquitto_pub; help is --help only.
  app.set_help_flag("--help", "Print this help and exit");
  app.add_option("--url", o.url,
                 "Broker URL mqtt://, mqtts://, ws:// or wss://[user[:password]@]host[:port]"
                 "[/path]; wins over -h/-p");
  app.add_option("-h,--host", o.host, "Broker host")->capture_default_str();
  app.add_option("-p,--port", o.port, "Broker port")->capture_default_str();
  app.add_flag("--tls,--ssl", o.tls, "MQTT over TLS to -h/-p (as mqtts:// does)");
  app.add_flag("--ws", o.websocket,
               "MQTT over WebSocket to -h/-p (as ws:// does; wss:// with --tls)");
  app.add_option("--ws-path", o.ws_path, "WebSocket: the upgrade request's path")
      ->capture_default_str();
  app.add_option("--cafile", o.tls_options.cafile,
                 "TLS: CA certificates (PEM) to verify the broker with (default: the system's)");
  app.add_option("--cert", o.tls_options.certfile, "TLS: client certificate (PEM)");
  app.add_option("--key", o.tls_options.keyfile, "TLS: the client certificate's key (PEM)");
  app.add_flag("--insecure", o.tls_options.insecure,
               "TLS: do not verify the broker's certificate or host name");
  app.add_option("-V,--version", o.version_text,
                 "MQTT version: 3, 4 or 5 (also 3.1, 311, 3.1.1, mqttv31, mqttv311, mqttv5)")
      ->capture_default_str();
  app.add_option("-c,--count", o.count, "Number of clients")->capture_default_str();
  app.add_option("-n,--startnumber", o.start_number, "Index (%i) of the first client")
      ->capture_default_str();
  app.add_option("-i,--interval", o.connect_interval_ms, "Milliseconds between connection starts")
      ->capture_default_str();
  app.add_option("-R,--conn-rate", o.connect_rate, "Connections started per second (wins over -i)");
  app.add_option("--prefix", o.prefix, "Client id prefix (default cicada-bench-<pid>)");
  app.add_option("-u,--username", raw.username, "Username");
  app.add_option("-P,--password", raw.password, "Password");
  app.add_option("-k,--keepalive", o.keep_alive, "Keep alive in seconds (0: off)")
      ->capture_default_str();
  app.add_option("-C,--clean", o.clean_start, "Clean start / clean session: true or false")
      ->capture_default_str();
  app.add_option("-x,--session-expiry", raw.session_expiry,
                 "MQTT 5 Session Expiry Interval in seconds");
  app.add_option("--ifaddr", o.ifaddrs,
                 "Local source addresses, comma-separated, used round-robin (e.g. "
                 "127.0.0.1,127.0.0.2 for more than ~28k connections)")
      ->delimiter(',');
  app.add_option("--threads", o.threads, "Worker threads (default: one per core)");
  app.add_option("--conn-timeout", o.connect_timeout_s,
                 "Seconds a client may take to connect (and subscribe)")
      ->capture_default_str();
  app.add_option("--max-fail", o.max_fail_percent,
                 "Percent of clients that may fail or be lost before the exit code is 1")
      ->capture_default_str();
  app.add_option("-d,--duration", o.duration_s, "Seconds to run (0: until -L or Ctrl-C)")
      ->capture_default_str();
  app.add_flag("-Q,--quiet", o.quiet, "No progress lines");
}

void add_publish(CLI::App& app, Options& o) {
  app.add_option("-t,--topic", o.topic,
                 "Topic to publish to; %i = client index, %c = client id, %u = username "
                 "(default cicada-bench/%i)");
  app.add_option("-q,--qos", o.qos, "QoS of the messages")->capture_default_str();
  app.add_option("-s,--size", o.payload_size, "Payload size in bytes (at least 32)")
      ->capture_default_str();
  app.add_flag("-r,--retain", o.retain, "Publish with the retain flag");
  app.add_option("-I,--interval_of_msg", o.publish_interval_ms,
                 "Milliseconds between messages of one publisher (0: as fast as possible)")
      ->capture_default_str();
  app.add_option("--rate", o.rate, "Total messages per second over all publishers (wins over -I)");
  app.add_option("-L,--limit", o.limit, "Messages to publish in all (0: no limit)");
  app.add_option("--inflight", o.inflight,
                 "QoS 1/2 messages awaiting acknowledgement per publisher")
      ->capture_default_str();
  app.add_option("--drain", o.drain_s,
                 "Seconds to wait for acknowledgements and deliveries after publishing stops")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  RawFlags raw;
  CLI::App app{"cicada-bench: MQTT load generator (conn, pub, sub, pubsub)"};
  app.set_help_flag("--help", "Print this help and exit");
  app.require_subcommand(1);

  CLI::App* conn = app.add_subcommand("conn", "Open connections and hold them");
  add_common(*conn, o, raw);

  CLI::App* pub = app.add_subcommand("pub", "Publish messages");
  add_common(*pub, o, raw);
  add_publish(*pub, o);

  CLI::App* sub = app.add_subcommand("sub", "Subscribe and measure what arrives");
  add_common(*sub, o, raw);
  sub->add_option("-t,--topic", o.topic,
                  "Filter to subscribe to, %i/%c/%u expanded per client "
                  "(default cicada-bench/#)");
  sub->add_option("-q,--qos", raw.sub_qos, "Maximum QoS of the subscription")
      ->capture_default_str();
  sub->add_option("-L,--limit", o.limit, "Stop after receiving this many messages (0: no limit)");

  CLI::App* pubsub = app.add_subcommand(
      "pubsub", "Publishers and subscribers in one process: end-to-end latency and loss");
  add_common(*pubsub, o, raw);
  add_publish(*pubsub, o);
  pubsub->add_option("--subs", o.subscribers, "Number of subscribers")->capture_default_str();
  pubsub->add_option("--sub-topic", o.sub_topic,
                     "Filter the subscribers use, %i = subscriber index (default: the publish "
                     "topic with its per-client levels as '+')");
  pubsub->add_option("--sub-qos", raw.sub_qos, "Maximum QoS of the subscriptions (default -q)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }

  o.scenario = conn->parsed()  ? Scenario::conn
               : pub->parsed() ? Scenario::pub
               : sub->parsed() ? Scenario::sub
                               : Scenario::pubsub;
  CLI::App* chosen = app.get_subcommands().front();
  if (chosen->count("--username") > 0) o.username = raw.username;
  if (chosen->count("--password") > 0) o.password = raw.password;
  if (chosen->count("--session-expiry") > 0) o.session_expiry = raw.session_expiry;
  if (o.scenario == Scenario::sub) {
    o.qos = raw.sub_qos;  // a subscriber's -q is its subscription's maximum QoS
    o.sub_qos = raw.sub_qos;
  } else if (o.scenario == Scenario::pubsub && chosen->count("--sub-qos") > 0) {
    o.sub_qos = raw.sub_qos;
  }
  if (auto error = cicada::bench::finalize(o)) {
    std::fprintf(stderr, "cicada-bench: %s\n", error->c_str());
    return 2;
  }
  return cicada::bench::run_scenario(o);
}
