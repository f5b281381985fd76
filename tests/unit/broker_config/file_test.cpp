// Reading a TOML file: every option, listener tables, and each kind of error with its
// "<file>:<line>: <key>: <what was expected>" message.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "broker/config/config.hpp"
#include "unit/broker_config/test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::load_error;
using testing_support::with_file;
using testing_support::write_file;

Config load_text(std::string_view toml) {
  return load_config(with_file(write_file(toml)), {});
}

TEST(File, EveryOption) {
  const Config c = load_config(with_file(CICADA_TEST_DATA_DIR "/config/full.toml"), {});
  ASSERT_EQ(c.tcp_listeners.size(), 3u);  // in name order
  EXPECT_EQ(c.tcp_listeners[0], (TcpListenerConfig{"default", "127.0.0.1", 1884, 5000, true}));
  EXPECT_EQ(c.tcp_listeners[1], (TcpListenerConfig{"internal", "0.0.0.0", 11883, 1'000'000, true}));
  EXPECT_EQ(c.tcp_listeners[2], (TcpListenerConfig{"v6", "::", 0, 1'000'000, false}));
  EXPECT_EQ(c.max_packet_size, 64u * 1024);
  EXPECT_EQ(c.max_clientid_len, 23);
  EXPECT_EQ(c.max_topic_levels, 16);
  EXPECT_EQ(c.max_topic_alias, 0);
  EXPECT_EQ(c.max_inflight, 100);
  EXPECT_EQ(c.max_mqueue_len, 0u);
  EXPECT_FALSE(c.mqueue_store_qos0);
  EXPECT_EQ(c.max_keepalive, 600);
  EXPECT_FALSE(c.retain_available);
  EXPECT_FALSE(c.wildcard_subscription);
  EXPECT_FALSE(c.shared_subscription);
  EXPECT_EQ(c.shared_subscription_strategy, SharedStrategy::hash_topic);
  EXPECT_EQ(c.max_qos_allowed, 1);
  EXPECT_EQ(c.max_subscriptions, 50u);
  EXPECT_EQ(c.session_expiry_interval, 86400u);
  EXPECT_EQ(c.max_awaiting_rel, 10u);
  EXPECT_EQ(c.await_rel_timeout, 30u);
  EXPECT_EQ(c.idle_timeout_ms, 500u);
  EXPECT_EQ(c.max_outbound_bytes, 512u * 1024);
  EXPECT_TRUE(c.ignore_loop_deliver);
  EXPECT_EQ(c.response_information, "cicada/responses/");
  EXPECT_FALSE(c.retainer_enable);
  EXPECT_EQ(c.retainer_max_retained_messages, 0u);
  EXPECT_EQ(c.retainer_max_bytes, 256u << 20);
  EXPECT_EQ(c.retainer_max_payload_size, 4096u);
  EXPECT_EQ(c.retainer_max_deliver_per_subscribe, 100u);
  EXPECT_EQ(c.sys_msg_interval, 10u);
  EXPECT_EQ(c.worker_threads, 4u);
  EXPECT_EQ(c.log_level, "debug");
}

TEST(File, EmptyFileMeansDefaults) {
  EXPECT_EQ(load_text(""), testing_support::defaults());
}

TEST(File, DottedKeysAndInlineTablesAreTheSameOptions) {
  const Config c = load_text(
      "mqtt.max_inflight = 7\n"
      "retainer = { max_bytes = \"2MB\" }\n"
      "listeners.tcp.a = { bind = \"[::1]:1883\" }\n");
  EXPECT_EQ(c.max_inflight, 7);
  EXPECT_EQ(c.retainer_max_bytes, 2u << 20);
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  EXPECT_EQ(c.tcp_listeners[0].name, "a");
  EXPECT_EQ(c.tcp_listeners[0].host, "::1");
}

TEST(File, ListenersReplaceTheBuiltInOne) {
  const Config c = load_text("[listeners.tcp.local]\nbind = \"127.0.0.1:0\"\n");
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  EXPECT_EQ(c.tcp_listeners[0], (TcpListenerConfig{"local", "127.0.0.1", 0, 1'000'000, true}));
}

TEST(File, ShortListenerFormMeansTheDefaultListener) {
  const Config c = load_text("[listeners.tcp]\nbind = \"[::]:1883\"\nmax_connections = 10\n");
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  EXPECT_EQ(c.tcp_listeners[0], (TcpListenerConfig{"default", "::", 1883, 10, true}));
}

TEST(File, ListenersOnPortZeroMayShareAHost) {
  const Config c = load_text(
      "[listeners.tcp.a]\nbind = \"127.0.0.1:0\"\n"
      "[listeners.tcp.b]\nbind = \"127.0.0.1:0\"\n");
  EXPECT_EQ(c.tcp_listeners.size(), 2u);
}

TEST(File, ADisabledListenerMayShareABind) {
  const Config c = load_text(
      "[listeners.tcp.a]\nbind = \"1883\"\n"
      "[listeners.tcp.b]\nbind = \"0.0.0.0:1883\"\nenabled = false\n");
  EXPECT_EQ(c.tcp_listeners.size(), 2u);
}

struct ErrorCase {
  std::string_view name;
  std::string_view toml;
  std::string_view message;  // after "<file>:"
};

void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << c.name;
}

class FileErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(FileErrorTest, NamesFileLineKeyAndExpectation) {
  const std::string path = write_file(GetParam().toml);
  EXPECT_EQ(load_error(with_file(path)), path + ":" + std::string(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, FileErrorTest,
    testing::Values(
        // unknown keys, with a suggestion when one is close
        ErrorCase{"typo", "[mqtt]\n\nmax_inflite = 5\n",
                  "3: mqtt.max_inflite: unknown key; did you mean mqtt.max_inflight?"},
        ErrorCase{"wrong_section", "max_inflight = 5\n",
                  "1: max_inflight: unknown key; did you mean mqtt.max_inflight?"},
        ErrorCase{"emqx_nesting", "[retainer.backend]\nmax_retained_messages = 5\n",
                  "2: retainer.backend.max_retained_messages: unknown key; did you mean "
                  "retainer.max_retained_messages?"},
        ErrorCase{"section_typo", "[mqt]\nmax_inflight = 5\n",
                  "2: mqt.max_inflight: unknown key; did you mean mqtt.max_inflight?"},
        ErrorCase{"empty_unknown_table", "[mqt]\n", "1: mqt: unknown key; did you mean mqtt?"},
        ErrorCase{"far_from_everything", "[mqtt]\nfrobnicate_the_widgets = 1\n",
                  "2: mqtt.frobnicate_the_widgets: unknown key"},
        ErrorCase{"listener_key", "[listeners.tcp.a]\nbnd = \"1883\"\n",
                  "2: listeners.tcp.a.bnd: unknown key; did you mean listeners.tcp.a.bind?"},
        ErrorCase{"listener_kind", "[listeners.quic.a]\nbind = \"14567\"\n",
                  "1: listeners.quic: unknown key; listeners are [listeners.tcp.NAME], "
                  "[listeners.ssl.NAME], [listeners.ws.NAME] and [listeners.wss.NAME] tables"},
        ErrorCase{"short_listener_typo", "[listeners.tcp]\nbnd = 1\n",
                  "2: listeners.tcp.bnd: unknown key; did you mean listeners.tcp.bind?"},
        // wrong types
        ErrorCase{"bool_as_string", "[mqtt]\nretain_available = \"yes\"\n",
                  "2: mqtt.retain_available: expected true or false, got \"yes\""},
        ErrorCase{"integer_as_string", "[mqtt]\nmax_inflight = \"64\"\n",
                  "2: mqtt.max_inflight: expected an integer between 1 and 65535, got \"64\""},
        ErrorCase{"integer_as_float", "[node]\nworker_threads = 1.5\n",
                  "2: node.worker_threads: expected an integer between 0 and 1024, got 1.5"},
        ErrorCase{"string_as_integer", "[mqtt]\nresponse_information = 5\n",
                  "2: mqtt.response_information: expected a string, got 5"},
        ErrorCase{"enum_as_bool", "[log]\nlevel = true\n",
                  "2: log.level: expected one of trace, debug, info, warning, error, critical "
                  "or off, got true"},
        ErrorCase{"section_as_value", "mqtt = 5\n",
                  "1: mqtt: expected a table of options, as [mqtt], got 5"},
        ErrorCase{"option_as_table", "[mqtt.max_inflight]\n",
                  "1: mqtt.max_inflight: expected an integer between 1 and 65535, got a table"},
        ErrorCase{"size_as_array", "[mqtt]\nmax_packet_size = [1]\n",
                  "2: mqtt.max_packet_size: expected a size such as 512B, 64KB, 1MB or 1GB, "
                  "got an array"},
        ErrorCase{"listeners_as_value", "listeners = \"0.0.0.0:1883\"\n",
                  "1: listeners: expected a table of listeners, as [listeners.tcp.default], got "
                  "\"0.0.0.0:1883\""},
        // out of range
        ErrorCase{"integer_too_small", "[mqtt]\nmax_inflight = 0\n",
                  "2: mqtt.max_inflight: expected an integer between 1 and 65535, got 0"},
        ErrorCase{"integer_too_large", "[mqtt]\nmax_qos_allowed = 3\n",
                  "2: mqtt.max_qos_allowed: expected an integer between 0 and 2, got 3"},
        ErrorCase{"negative", "[mqtt]\nmax_mqueue_len = -1\n",
                  "2: mqtt.max_mqueue_len: expected an integer between 0 and 4294967295, got -1"},
        ErrorCase{"size_too_large", "[mqtt]\nmax_packet_size = \"1GB\"\n",
                  "2: mqtt.max_packet_size: expected a size between 128B and 268435460B, got "
                  "\"1GB\""},
        ErrorCase{"size_too_small", "[mqtt]\nmax_packet_size = 64\n",
                  "2: mqtt.max_packet_size: expected a size between 128B and 268435460B, got 64"},
        ErrorCase{"duration_too_long", "[mqtt]\nmax_keepalive = \"1d\"\n",
                  "2: mqtt.max_keepalive: expected a duration between 1s and 65535s, got \"1d\""},
        ErrorCase{"duration_zero", "[mqtt]\nidle_timeout = 0\n",
                  "2: mqtt.idle_timeout: expected a duration between 1ms and 1d, got 0"},
        ErrorCase{"enum_unknown", "[mqtt]\nshared_subscription_strategy = \"local\"\n",
                  "2: mqtt.shared_subscription_strategy: expected one of round_robin, random, "
                  "sticky, hash_clientid or hash_topic, got \"local\""},
        // malformed sizes, durations and binds
        ErrorCase{"size_unit", "[mqtt]\nmax_packet_size = \"1XB\"\n",
                  "2: mqtt.max_packet_size: expected a size such as 512B, 64KB, 1MB or 1GB (or a "
                  "plain number of bytes), got \"1XB\""},
        ErrorCase{"duration_unit", "[mqtt]\nsession_expiry_interval = \"2 hours\"\n",
                  "2: mqtt.session_expiry_interval: expected a duration such as 500ms, 15s, 5m, "
                  "2h or 1d (or a plain number of seconds), got \"2 hours\""},
        ErrorCase{"duration_fraction_of_second", "[mqtt]\nawait_rel_timeout = \"1500ms\"\n",
                  "2: mqtt.await_rel_timeout: expected a whole number of seconds, got \"1500ms\""},
        ErrorCase{"bind_without_port", "[listeners.tcp.a]\nbind = \"0.0.0.0\"\n",
                  "2: listeners.tcp.a.bind: expected HOST:PORT with a port from 0 to 65535 and an "
                  "IPv6 host in brackets, as in [::]:1883, got \"0.0.0.0\""},
        ErrorCase{"bind_ipv6_unbracketed", "[listeners.tcp.a]\nbind = \"::1:1883\"\n",
                  "2: listeners.tcp.a.bind: expected HOST:PORT with a port from 0 to 65535 and an "
                  "IPv6 host in brackets, as in [::]:1883, got \"::1:1883\""},
        ErrorCase{"bind_port_too_large", "[listeners.tcp.a]\nbind = 70000\n",
                  "2: listeners.tcp.a.bind: expected HOST:PORT with a port from 0 to 65535 and an "
                  "IPv6 host in brackets, as in [::]:1883, got 70000"},
        ErrorCase{"listener_connections", "[listeners.tcp.a]\nmax_connections = 0\n",
                  "2: listeners.tcp.a.max_connections: expected an integer between 1 and "
                  "4294967295, got 0"},
        ErrorCase{"listener_name", "[listeners.tcp.Public]\nbind = 1883\n",
                  "1: listeners.tcp.Public: expected a listener name of lower-case letters, "
                  "digits, '_' and '-'"},
        ErrorCase{"duplicate_bind",
                  "[listeners.tcp.a]\nbind = \"0.0.0.0:1883\"\n\n"
                  "[listeners.tcp.b]\nbind = 1883\n",
                  "5: listeners.tcp.b.bind: 0.0.0.0:1883 is also the bind of listener a; give "
                  "each listener its own port"},
        ErrorCase{"duplicate_default_bind", "[listeners.tcp.a]\n[listeners.tcp.b]\n",
                  "2: listeners.tcp.b.bind: 0.0.0.0:1883 is also the bind of listener a; give "
                  "each listener its own port"},
        // strings
        ErrorCase{"string_nul", "[mqtt]\nresponse_information = \"a\\u0000b\"\n",
                  "2: mqtt.response_information: expected UTF-8 text without U+0000 "
                  "[MQTT-1.5.4-1], [MQTT-1.5.4-2]"},
        // TOML syntax
        ErrorCase{"syntax", "[mqtt]\nmax_inflight = = 5\n",
                  "2: invalid TOML: Error while parsing value: could not determine value type"},
        ErrorCase{"duplicate_key", "[mqtt]\nmax_inflight = 5\nmax_inflight = 6\n",
                  "3: invalid TOML: Error while parsing key-value pair: cannot redefine existing "
                  "integer 'max_inflight'"}),
    [](const testing::TestParamInfo<ErrorCase>& param) { return std::string(param.param.name); });

TEST(File, MissingFile) {
  EXPECT_EQ(load_error(with_file("/nonexistent/cicada.toml")),
            "/nonexistent/cicada.toml: cannot read the configuration file: No such file or "
            "directory");
}

TEST(File, Directory) {
  EXPECT_EQ(load_error(with_file(CICADA_TEST_DATA_DIR)),
            CICADA_TEST_DATA_DIR ": cannot read the configuration file: it is a directory");
}

}  // namespace
}  // namespace cicada::broker

namespace cicada::broker {
namespace {

TEST(File, HttpAuthOptions) {
  const Config c = load_config(testing_support::with_file(testing_support::write_file(R"(
[auth.http]
url = "http://127.0.0.1:8991/auth"
method = "get"
body = '{"u": "${username}"}'
headers = """
X-Api-Key: k
Accept: */*
"""
request_timeout = "2s"
connect_timeout = "500ms"
pool_size = 3
on_error = "deny"

[authorization.http]
url = "http://127.0.0.1:8991/acl"
)")),
                               {{"CICADA_AUTHORIZATION__HTTP__ON_ERROR", "deny"}});
  ASSERT_EQ(c.authentication.size(), 1u);
  const AuthenticatorConfig& a = c.authentication[0];
  EXPECT_EQ(a.backend, AuthBackend::http);
  EXPECT_EQ(a.name, "http");
  EXPECT_EQ(a.url, "http://127.0.0.1:8991/auth");
  EXPECT_EQ(a.method, "get");
  EXPECT_EQ(a.body, R"({"u": "${username}"})");
  EXPECT_EQ(a.headers, "X-Api-Key: k\nAccept: */*\n");
  EXPECT_EQ(a.request_timeout_ms, 2000u);
  EXPECT_EQ(a.connect_timeout_ms, 500u);
  EXPECT_EQ(a.pool_size, 3u);
  EXPECT_TRUE(a.on_error_deny);
  ASSERT_EQ(c.authorization_sources.size(), 1u);
  const AuthorizationSourceConfig& s = c.authorization_sources[0];
  EXPECT_EQ(s.type, AuthzType::http);
  EXPECT_EQ(s.url, "http://127.0.0.1:8991/acl");
  EXPECT_EQ(s.method, "post");
  EXPECT_EQ(s.request_timeout_ms, 5000u);
  EXPECT_TRUE(s.on_error_deny);
  EXPECT_NE(testing_support::load_error(testing_support::with_file(testing_support::write_file(
                                            "[auth.http]\nmethod = \"put\"\n")),
                                        {})
                .find("auth.http.method"),
            std::string::npos);
}

}  // namespace
}  // namespace cicada::broker
