#include "tool_options.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <boost/url/parse.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string_view>

#include <cicada/base/pem_file.hpp>
#include <cicada/topic/topic.hpp>

namespace cicada::tools {

namespace {

const char* name_of(Tool tool) {
  return tool == Tool::pub ? "cicada-pub" : "cicada-sub";
}

template <class T>
bool parse_number(std::string_view text, T& out, T min, T max) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return false;
  if (value < static_cast<long long>(min) || value > static_cast<long long>(max)) return false;
  out = static_cast<T>(value);
  return true;
}

bool parse_qos(std::string_view text, client::QoS& out) {
  int q = 0;
  if (!parse_number(text, q, 0, 2)) return false;
  out = static_cast<client::QoS>(q);
  return true;
}

// -L mqtt[s]://[user[:password]@]host[:port]/topic, as mosquitto reads it; ws:// and
// wss:// too (a Cicada extension; the WebSocket path is /mqtt).
std::string parse_url(std::string_view text, ToolOptions& o) {
  auto parsed = boost::urls::parse_uri(boost::core::string_view(text.data(), text.size()));
  if (!parsed) return "Invalid URL for -L argument given";
  const auto& url = *parsed;
  const std::string scheme(url.scheme());
  if (scheme != "mqtt" && scheme != "mqtts" && scheme != "ws" && scheme != "wss")
    return "Unsupported URL scheme.";
  o.scheme = scheme;
  // mosquitto: mqtts:// without --cafile / --capath trusts the system's CAs.
  if (scheme == "mqtts" || scheme == "wss") o.tls_requested = true;
  o.host = std::string(url.host());
  std::uint16_t port = 0;
  if (url.has_port()) {
    if (!parse_number(std::string_view(url.port()), port, std::uint16_t{1}, std::uint16_t{65535}))
      return "Invalid port given in -L URL";
    o.port = port;
  } else {
    o.port.reset();
  }
  if (url.has_userinfo()) {
    o.username = std::string(url.user());
    if (url.has_password()) o.password = std::string(url.password());
  }
  std::string path(url.path());
  if (path.size() > 1)
    o.topics.push_back(path.substr(1));
  else
    return "Invalid URL for -L argument given - topic missing";
  return {};
}

// mosquitto's -D: the commands and properties supported here; others are refused.
// A PUBLISH or Will property (MQTT 5.0 3.3.2.3, 3.1.3.2), as mosquitto names them.
std::string parse_message_property(std::string_view property, std::string_view first,
                                   std::string_view second, client::MessageProperties& p,
                                   const std::string& where) {
  if (property == "user-property") {
    p.user_properties.emplace_back(first, second);
  } else if (property == "content-type") {
    p.content_type = std::string(first);
  } else if (property == "response-topic") {
    if (topic::validate_name(first) != topic::TopicError::ok) return where + ": invalid topic";
    p.response_topic = std::string(first);
  } else if (property == "correlation-data") {
    p.correlation_data = std::string(first);
  } else if (property == "message-expiry-interval") {
    std::uint32_t v = 0;
    if (!parse_number(first, v, 0u, 0xFFFFFFFFu)) return where + ": invalid value";
    p.message_expiry_interval = v;
  } else if (property == "payload-format-indicator") {
    std::uint8_t v = 0;
    if (!parse_number(first, v, std::uint8_t{0}, std::uint8_t{1})) return where + ": invalid value";
    p.payload_format_indicator = v;
  } else {
    return where + " is not supported yet.";
  }
  return {};
}

// CONNECT properties (MQTT 5.0 3.1.2.11).
std::string parse_connect_property(std::string_view property, std::string_view first,
                                   std::string_view second, ToolOptions& o,
                                   const std::string& where) {
  if (property == "user-property") {
    o.connect_user_properties.emplace_back(first, second);
  } else if (property == "session-expiry-interval") {
    std::uint32_t v = 0;
    if (!parse_number(first, v, 0u, 0xFFFFFFFFu)) return where + ": invalid value";
    o.session_expiry = v;
  } else if (property == "receive-maximum") {
    std::uint16_t v = 0;  // 0 is a Protocol Error [MQTT-3.1.2.11.3]
    if (!parse_number(first, v, std::uint16_t{1}, std::uint16_t{65535}))
      return where + ": invalid value";
    o.receive_maximum = v;
  } else if (property == "maximum-packet-size") {
    std::uint32_t v = 0;  // 0 is a Protocol Error (3.1.2.11.4)
    if (!parse_number(first, v, 1u, 268'435'455u + 5u)) return where + ": invalid value";
    o.maximum_packet_size = v;
  } else if (property == "topic-alias-maximum") {
    std::uint16_t v = 0;
    if (!parse_number(first, v, std::uint16_t{0}, std::uint16_t{65535}))
      return where + ": invalid value";
    o.topic_alias_maximum = v;
  } else if (property == "request-problem-information" ||
             property == "request-response-information") {
    std::uint8_t v = 0;  // 0 or 1; anything else is a Protocol Error (3.1.2.11.7, 3.1.2.11.6)
    if (!parse_number(first, v, std::uint8_t{0}, std::uint8_t{1})) return where + ": invalid value";
    (property == "request-problem-information" ? o.request_problem_information
                                               : o.request_response_information) = v == 1;
  } else if (property == "authentication-method") {
    o.authentication_method = std::string(first);
  } else if (property == "authentication-data") {
    o.authentication_data = std::string(first);
  } else {
    return where + " is not supported yet.";
  }
  return {};
}

std::string parse_property(Tool tool, std::string_view command, std::string_view property,
                           std::string_view first, std::string_view second, ToolOptions& o) {
  const std::string where = "-D " + std::string(command) + " " + std::string(property);
  if (command == "connect") return parse_connect_property(property, first, second, o, where);
  if (command == "will") {
    if (property == "will-delay-interval") {
      std::uint32_t v = 0;
      if (!parse_number(first, v, 0u, 0xFFFFFFFFu)) return where + ": invalid value";
      o.will_delay = v;
      return {};
    }
    return parse_message_property(property, first, second, o.will_properties, where);
  }
  if (command == "subscribe" && tool == Tool::sub) {
    if (property == "user-property") {
      o.subscribe_properties.user_properties.emplace_back(first, second);
    } else if (property == "subscription-identifier") {
      std::uint32_t v = 0;
      if (!parse_number(first, v, 1u, 268'435'455u)) return where + ": invalid value";
      o.subscribe_properties.subscription_identifier = v;
    } else {
      return where + " is not supported yet.";
    }
    return {};
  }
  if (command == "unsubscribe" && tool == Tool::sub) {
    if (property != "user-property") return where + " is not supported yet.";
    o.unsubscribe_properties.user_properties.emplace_back(first, second);
    return {};
  }
  if (command == "disconnect") {
    if (property == "session-expiry-interval") {
      std::uint32_t v = 0;
      if (!parse_number(first, v, 0u, 0xFFFFFFFFu)) return where + ": invalid value";
      o.disconnect_properties.session_expiry_interval = v;
    } else if (property == "user-property") {
      o.disconnect_properties.user_properties.emplace_back(first, second);
    } else {
      return where + " is not supported yet.";
    }
    return {};
  }
  if (command == "publish" && tool == Tool::pub) {
    return parse_message_property(property, first, second, o.publish_properties, where);
  }
  return "-D " + std::string(command) +
         " is not supported yet (only connect, will, disconnect and " +
         std::string(tool == Tool::pub ? "publish" : "subscribe and unsubscribe") + ").";
}

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

ParseOutcome parse_tool_options(Tool tool, int argc, char** argv) {
  ParseOutcome outcome;
  ToolOptions& o = outcome.options;
  o.tool = tool;
  const bool pub = tool == Tool::pub;
  int message_sources = 0;
  std::optional<std::string> will_payload;
  bool will_properties_given = false;  // -D will ...
  std::optional<client::QoS> will_qos;
  bool will_retain = false;
  auto fail = [&](std::string text) {
    outcome.error = std::move(text);
    return outcome;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&](std::string_view& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string_view v;
    auto needs = [&](const char* what) {
      return std::string(flag) + " argument given but no " + what + " specified.";
    };
    if (flag == "--help") {
      o.help = true;
    } else if (flag == "-h" || flag == "--host") {
      if (!value(v)) return fail(needs("host"));
      o.host = std::string(v);
    } else if (flag == "-p" || flag == "--port") {
      if (!value(v)) return fail(needs("port"));
      std::uint16_t port = 0;
      if (!parse_number(v, port, std::uint16_t{1}, std::uint16_t{65535}))
        return fail("Invalid port given: " + std::string(v));
      o.port = port;
    } else if (flag == "-L" || flag == "--url") {
      if (!value(v)) return fail(needs("URL"));
      if (auto e = parse_url(v, o); !e.empty()) return fail(e);
    } else if (flag == "-t" || flag == "--topic") {
      if (!value(v)) return fail(needs("topic"));
      if (pub && !o.topics.empty()) return fail("Only one topic may be given with cicada-pub.");
      o.topics.emplace_back(v);
    } else if (!pub && (flag == "-U" || flag == "--unsubscribe")) {
      if (!value(v)) return fail(needs("unsubscribe topic"));
      if (topic::validate_filter(v) != topic::TopicError::ok)
        return fail("Invalid unsubscribe topic '" + std::string(v) +
                    "', are all '+' and '#' wildcards correct?");
      o.unsubscribe_topics.emplace_back(v);
    } else if (flag == "-q" || flag == "--qos") {
      if (!value(v)) return fail(needs("QoS"));
      if (!parse_qos(v, o.qos)) return fail("Invalid QoS given: " + std::string(v));
    } else if (flag == "-i" || flag == "--id") {
      if (!value(v)) return fail(needs("id"));
      o.client_id = std::string(v);
    } else if (flag == "-I" || flag == "--id-prefix") {
      if (!value(v)) return fail(needs("id prefix"));
      o.id_prefix = std::string(v);
    } else if (flag == "-u" || flag == "--username") {
      if (!value(v)) return fail(needs("username"));
      o.username = std::string(v);
    } else if (flag == "-P" || flag == "--pw") {
      if (!value(v)) return fail(needs("password"));
      o.password = std::string(v);
    } else if (flag == "-k" || flag == "--keepalive") {
      if (!value(v)) return fail(needs("keepalive"));
      if (!parse_number(v, o.keep_alive, std::uint16_t{0}, std::uint16_t{65535}) ||
          (o.keep_alive > 0 && o.keep_alive < 5))
        return fail("Invalid keepalive given, it must be between 5 and 65535 inclusive.");
    } else if (flag == "-V" || flag == "--protocol-version") {
      if (!value(v)) return fail(needs("protocol version"));
      if (v == "mqttv5" || v == "5")
        o.version = client::ProtocolVersion::v5;
      else if (v == "mqttv311" || v == "311")
        o.version = client::ProtocolVersion::v3_1_1;
      else if (v == "mqttv31" || v == "31")
        o.version = client::ProtocolVersion::v3_1;
      else
        return fail("Invalid protocol version argument given.");
    } else if (flag == "-c" || flag == "--disable-clean-session") {
      o.clean_session = false;
    } else if (flag == "-x") {
      if (!value(v)) return fail(needs("session expiry interval"));
      std::uint32_t expiry = 0;
      if (v == "∞")
        expiry = 0xFFFFFFFF;
      else if (!parse_number(v, expiry, 0u, 0xFFFFFFFFu))
        return fail("Invalid session-expiry-interval given.");
      o.session_expiry = expiry;
    } else if (flag == "-d" || flag == "--debug") {
      o.debug = true;
    } else if (flag == "--quiet") {
      o.quiet = true;
    } else if (flag == "--will-topic") {
      if (!value(v)) return fail(needs("will topic"));
      if (topic::validate_name(v) != topic::TopicError::ok)
        return fail("Invalid will topic '" + std::string(v) + "', does it contain '+' or '#'?");
      o.will_topic = std::string(v);
    } else if (flag == "--will-payload") {
      if (!value(v)) return fail(needs("will payload"));
      will_payload = std::string(v);
    } else if (flag == "--will-qos") {
      if (!value(v)) return fail(needs("will QoS"));
      client::QoS q{};
      if (!parse_qos(v, q)) return fail("Invalid will QoS " + std::string(v) + ".");
      will_qos = q;
    } else if (flag == "--will-retain") {
      will_retain = true;
    } else if (flag == "--cafile") {
      if (!value(v)) return fail(needs("cafile"));
      o.tls.ca_file = std::string(v);
      o.tls_requested = true;
    } else if (flag == "--capath") {
      if (!value(v)) return fail(needs("capath"));
      o.tls.ca_path = std::string(v);
      o.tls_requested = true;
    } else if (flag == "--tls-use-os-certs") {
      o.tls_requested = true;
    } else if (flag == "--cert") {
      if (!value(v)) return fail(needs("cert"));
      o.tls.cert_file = std::string(v);
    } else if (flag == "--key") {
      if (!value(v)) return fail(needs("key"));
      o.tls.key_file = std::string(v);
    } else if (flag == "--insecure") {
      // mosquitto: the server's name is not checked; the chain still is.
      o.tls.insecure = true;
    } else if (flag == "--tls-version") {
      if (!value(v)) return fail(needs("TLS version"));
      // mosquitto's names; the oldest version offered (mosquitto_pub also takes tlsv1.1).
      if (v != "tlsv1.2" && v != "tlsv1.3")
        return fail("Unsupported TLS version '" + std::string(v) +
                    "' (tlsv1.2 or tlsv1.3; TLS 1.0 and 1.1 are deprecated).");
      o.tls.min_version = std::string(v);
    } else if (flag == "--ciphers") {
      if (!value(v)) return fail(needs("ciphers"));
      o.tls.ciphers = std::string(v);
    } else if (flag == "--tls-alpn") {
      // mosquitto: one protocol name offered in the TLS handshake.
      if (!value(v)) return fail(needs("TLS ALPN protocol"));
      if (v.empty() || v.size() > 255) return fail("Invalid --tls-alpn protocol name.");
      o.tls.alpn = {std::string(v)};
    } else if (flag == "--psk" || flag == "--psk-identity" || flag == "--tls-engine" ||
               flag == "--keyform" || flag == "--tls-engine-kpass-sha1") {
      return fail(std::string(flag) + " is not supported yet by " + name_of(tool) + ".");
    } else if (flag == "-D" || flag == "--property") {
      std::string_view command, property, first, second;
      if (!value(command) || !value(property) || !value(first))
        return fail("-D argument given but not enough arguments (command, property, value).");
      if (property == "user-property" && !value(second))
        return fail("-D user-property needs a name and a value.");
      if (auto e = parse_property(tool, command, property, first, second, o); !e.empty())
        return fail(e);
      o.properties_given = true;
      if (command == "will") will_properties_given = true;
    } else if (pub && (flag == "-m" || flag == "--message")) {
      if (!value(v)) return fail(needs("message"));
      o.message = std::string(v);
      ++message_sources;
    } else if (pub && (flag == "-f" || flag == "--file")) {
      if (!value(v)) return fail(needs("file"));
      std::ifstream in{std::string(v), std::ios::binary};
      if (!in) return fail("Unable to read file \"" + std::string(v) + "\".");
      o.message = read_all(in);
      ++message_sources;
    } else if (pub && (flag == "-s" || flag == "--stdin-file")) {
      o.message = read_all(std::cin);
      ++message_sources;
    } else if (pub && (flag == "-n" || flag == "--null-message")) {
      o.message = std::string();
      ++message_sources;
    } else if (pub && (flag == "-l" || flag == "--stdin-line")) {
      o.lines = true;
      ++message_sources;
    } else if (pub && (flag == "-r" || flag == "--retain")) {
      o.retain = true;
    } else if (pub && flag == "--store") {
      if (!value(v)) return fail(needs("store directory"));
      o.store = std::string(v);
    } else if (pub && flag == "--store-sync") {
      o.store_sync = true;
    } else if (!pub && (flag == "-C")) {
      if (!value(v)) return fail(needs("count"));
      std::uint64_t c = 0;
      if (!parse_number(v, c, std::uint64_t{1}, std::uint64_t{1} << 62))
        return fail("Invalid message count \"" + std::string(v) + "\".");
      o.count = c;
    } else if (!pub && (flag == "-W")) {
      if (!value(v)) return fail(needs("timeout"));
      std::uint32_t w = 0;
      if (!parse_number(v, w, 1u, 3600u * 24u * 365u))
        return fail("Invalid timeout \"" + std::string(v) + "\".");
      o.timeout = w;
    } else if (!pub && (flag == "-R")) {
      o.no_retained = true;
    } else if (!pub && (flag == "-N")) {
      o.no_newline = true;
    } else if (!pub && (flag == "-v" || flag == "--verbose")) {
      o.verbose = true;
    } else if (!pub && (flag == "-F")) {
      if (!value(v)) return fail(needs("format"));
      o.format = std::string(v);
    } else if (!pub && flag == "--no-reconnect") {
      o.reconnect = false;
    } else {
      return fail("Unknown option '" + std::string(flag) + "'.");
    }
  }
  if (o.help) return outcome;
  if (o.tls.cert_file.empty() != o.tls.key_file.empty())
    return fail("Both certfile and keyfile must be provided if one of them is set.");
  if (!o.tls.cert_file.empty() && !o.tls_requested)
    return fail("--cert and --key need TLS: add --cafile, --capath or --tls-use-os-certs.");
  if (o.tls_requested && o.scheme == "mqtt") o.scheme = "mqtts";
  if (o.tls_requested && o.scheme == "ws") o.scheme = "wss";
  if ((!o.tls.min_version.empty() || !o.tls.ciphers.empty() || !o.tls.alpn.empty()) &&
      (o.scheme == "mqtt" || o.scheme == "ws"))
    return fail(
        "--tls-version, --ciphers and --tls-alpn need TLS: add --cafile, --capath or "
        "--tls-use-os-certs.");
  if (o.topics.empty() && (pub || o.unsubscribe_topics.empty())) {
    return fail(pub ? "Both topic and message must be supplied."
                    : "You must specify a topic to subscribe to.");
  }
  for (const auto& t : o.topics) {
    if (pub && topic::validate_name(t) != topic::TopicError::ok)
      return fail("Invalid publish topic '" + t + "', does it contain '+' or '#'?");
    if (!pub && topic::validate_filter(t) != topic::TopicError::ok)
      return fail("Invalid subscription topic '" + t + "', are all '+' and '#' wildcards correct?");
  }
  if (pub && message_sources == 0) return fail("Both topic and message must be supplied.");
  if (pub && message_sources > 1) return fail("Only one type of message can be sent at once.");
  if (!o.clean_session && !o.client_id)
    return fail("You must provide a client id if you are using the -c option.");
  if (o.store_sync && !o.store) return fail("--store-sync needs --store.");
  if (o.store && (o.clean_session || !o.client_id))
    return fail("--store needs a persistent session: add -c and -i id.");
  if (o.store && o.version == client::ProtocolVersion::v5 && o.session_expiry.value_or(0) == 0)
    return fail("--store with MQTT v5 needs a session expiry interval: add -x seconds.");
  if (o.properties_given && o.version != client::ProtocolVersion::v5)
    return fail("-D given but not using MQTT v5 (add -V 5).");
  // Authentication Data without a method is a Protocol Error (MQTT 5.0 3.1.2.11.10).
  if (o.authentication_data && !o.authentication_method)
    return fail("-D connect authentication-data needs -D connect authentication-method.");
  if (o.session_expiry && o.version != client::ProtocolVersion::v5 && *o.session_expiry != 0)
    return fail("Session expiry interval (-x) needs MQTT v5 (-V 5).");
  if (will_payload || will_qos || will_retain) {
    if (!o.will_topic) return fail("Will payload, QoS or retain given, but no will topic given.");
  }
  if (!o.will_topic && will_properties_given)
    return fail("-D will given, but no will topic given.");
  if (o.will_topic) {
    client::WillOptions will;
    will.topic = *o.will_topic;
    will.payload = will_payload.value_or("");
    will.qos = will_qos.value_or(client::QoS::at_most_once);
    will.retain = will_retain;
    will.delay_interval = o.will_delay;
    will.properties = o.will_properties;
    o.will = will;
  }
  return outcome;
}

void print_usage_error(Tool tool, const std::string& error, bool quiet) {
  if (quiet) return;
  std::fprintf(stderr, "Error: %s\n\nUse '%s --help' to see usage.\n", error.c_str(),
               name_of(tool));
}

void print_help(Tool tool) {
  const bool pub = tool == Tool::pub;
  std::printf("%s is a simple MQTT client that will %s.\n\n", name_of(tool),
              pub ? "publish a message on a single topic and exit"
                  : "subscribe to topics and print the messages it receives");
  std::printf("Usage: %s {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL}\n",
              name_of(tool));
  if (pub)
    std::printf(
        "                  {-f file | -l | -n | -m message | -s} [-q qos] [-r]\n"
        "                  [--store dir [--store-sync]]   (QoS 1/2 kept on disk until "
        "acknowledged;\n"
        "                   needs -c -i id, and -x with -V 5)\n");
  else
    std::printf(
        "                  [-U unsubscribe-topic] [-C msg_count] [-W timeout] [-R] [-N] [-v]\n"
        "                  [-F format] [--no-reconnect]\n");
  std::printf(
      "                  [-i id] [-I id_prefix] [-k keepalive] [-c] [-x session-expiry]\n"
      "                  [-V mqttv5|mqttv311|5|311] [-d] [--quiet]\n"
      "                  [--will-topic topic [--will-payload payload] [--will-qos qos] "
      "[--will-retain]]\n"
      "                  [-D command <property> <value>] (MQTT 5:\n"
      "                   publish, will: user-property, content-type, response-topic,\n"
      "                   correlation-data, message-expiry-interval, payload-format-indicator;\n"
      "                   will: will-delay-interval;\n"
      "                   connect: user-property, session-expiry-interval, receive-maximum,\n"
      "                   maximum-packet-size, topic-alias-maximum;\n"
      "                   subscribe (cicada-sub): subscription-identifier, user-property;\n"
      "                   unsubscribe (cicada-sub): user-property;\n"
      "                   disconnect: session-expiry-interval, user-property)\n"
      "                  [--cafile file | --capath dir | --tls-use-os-certs] [--cert file --key "
      "file]\n"
      "                  [--insecure] [--tls-version tlsv1.2|tlsv1.3] [--ciphers list]\n"
      "                  [--tls-alpn protocol]\n"
      "                  (TLS; -p defaults to 8883 then)\n"
      "-L also takes mqtts://, ws:// and wss:// URLs (WebSocket path /mqtt).\n");
}

int connect_failure_exit_code(const client::Error& error, client::ProtocolVersion version) {
  constexpr int mosq_err_tls = 8;
  if (error.kind == client::ErrorKind::tls_failed) return mosq_err_tls;
  if (error.kind == client::ErrorKind::connect_failed && codec::is_error(error.reason) &&
      error.reason != client::ReasonCode::protocol_error) {
    // A refusing CONNACK (a protocol error of our own making has no CONNACK code).
    if (version == client::ProtocolVersion::v5) return static_cast<int>(error.reason);
    return static_cast<int>(codec::to_connect_return_code(error.reason));
  }
  return 1;
}

namespace {

// Asks on the terminal, without echo, as mosquitto_pub/sub do (OpenSSL's prompt); empty
// when there is no terminal, and the key then fails to load with a clear error.
std::string ask_key_password() {
  char buffer[1024] = {};
  if (EVP_read_pw_string(buffer, sizeof buffer, "Enter PEM pass phrase:", 0) != 0) return {};
  std::string password(buffer);
  OPENSSL_cleanse(buffer, sizeof buffer);
  return password;
}

}  // namespace

client::ClientOptions client_options(const ToolOptions& o) {
  client::ClientOptions c;
  std::string host = o.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::uint16_t port = 1883;
  if (o.port)
    port = *o.port;
  else if (o.scheme == "mqtts")
    port = 8883;
  else if (o.scheme == "ws")
    port = 8083;
  else if (o.scheme == "wss")
    port = 8084;
  c.servers = {o.scheme + "://" + host + ":" + std::to_string(port)};
  c.tls = o.tls;
  if (!c.tls.key_file.empty() && pem_is_encrypted(c.tls.key_file)) {
    c.tls.key_password = ask_key_password();
  }
  c.version = o.version;
  if (o.client_id) {
    c.client_id = *o.client_id;
  } else if (o.id_prefix) {
    c.client_id = *o.id_prefix + std::to_string(::getpid());
  } else if (o.version != client::ProtocolVersion::v5) {
    // 3.1 needs an id; mosquitto makes one up the same way.
    std::mt19937 rng(std::random_device{}());
    char id[32];
    std::snprintf(id, sizeof id, "%s-%08x", o.tool == Tool::pub ? "cicada-pub" : "cicada-sub",
                  static_cast<unsigned>(rng()));
    c.client_id = id;
  }
  c.clean_start = o.clean_session;
  c.keep_alive = std::chrono::seconds(o.keep_alive);
  c.username = o.username;
  c.password = o.password;
  c.will = o.will;
  c.session_expiry_interval = o.session_expiry;
  c.connect_user_properties = o.connect_user_properties;
  if (o.receive_maximum) c.receive_maximum = *o.receive_maximum;
  if (o.maximum_packet_size) c.maximum_packet_size = *o.maximum_packet_size;
  if (o.topic_alias_maximum) c.topic_alias_maximum = *o.topic_alias_maximum;
  if (o.request_problem_information) c.request_problem_information = *o.request_problem_information;
  if (o.request_response_information)
    c.request_response_information = *o.request_response_information;
  if (o.authentication_method) {
    // The method and its first data go in CONNECT, as with mosquitto_pub; a command line
    // cannot answer a challenge, so a broker that sends one gets a closed connection.
    c.enhanced_auth = client::EnhancedAuth{
        .method = *o.authentication_method,
        .initial_data = [data = o.authentication_data.value_or("")] { return data; }};
  }
  c.retry_initial_connect = false;
  if (o.store) {
    c.store.directory = *o.store;
    c.store.sync = o.store_sync ? client::FileStoreOptions::Sync::always
                                : client::FileStoreOptions::Sync::none;
  }
  // cicada-sub, and cicada-pub -l (a long-running feed), ride out broker restarts.
  c.auto_reconnect = o.tool == Tool::sub ? o.reconnect : o.lines;
  c.backoff = {std::chrono::milliseconds(1000), std::chrono::milliseconds(30000),
               std::chrono::milliseconds(2000), 2.0};
  return c;
}

}  // namespace cicada::tools
