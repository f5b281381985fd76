// CICADA_* environment variables: the key path upper-cased with '.' -> "__".
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.hpp"
#include "unit/broker_config/test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::defaults;
using testing_support::Environment;
using testing_support::load_error;

TEST(Environment, OverridesEveryType) {
  const Config c = load_config({}, {{"CICADA_MQTT__MAX_PACKET_SIZE", "1MB"},
                                    {"CICADA_MQTT__MAX_INFLIGHT", "64"},
                                    {"CICADA_MQTT__RETAIN_AVAILABLE", "FALSE"},
                                    {"CICADA_MQTT__WILDCARD_SUBSCRIPTION", "false"},
                                    {"CICADA_MQTT__IDLE_TIMEOUT", "250ms"},
                                    {"CICADA_MQTT__SESSION_EXPIRY_INTERVAL", "3600"},
                                    {"CICADA_MQTT__MAX_OUTBOUND_BYTES", "65536"},
                                    {"CICADA_MQTT__RESPONSE_INFORMATION", "a b=c"},
                                    {"CICADA_MQTT__SHARED_SUBSCRIPTION_STRATEGY", "sticky"},
                                    {"CICADA_LOG__LEVEL", "warning"}});
  EXPECT_EQ(c.max_packet_size, 1u << 20);
  EXPECT_EQ(c.max_inflight, 64);
  EXPECT_FALSE(c.retain_available);
  EXPECT_FALSE(c.wildcard_subscription);
  EXPECT_EQ(c.idle_timeout_ms, 250u);
  EXPECT_EQ(c.session_expiry_interval, 3600u);
  EXPECT_EQ(c.max_outbound_bytes, 65536u);
  EXPECT_EQ(c.response_information, "a b=c");
  EXPECT_EQ(c.shared_subscription_strategy, SharedStrategy::sticky);
  EXPECT_EQ(c.log_level, "warning");
}

// DESIGN.md's form: CICADA_LISTENERS__TCP__BIND is the "default" listener's bind.
TEST(Environment, ShortListenerForm) {
  const Config c = load_config({}, {{"CICADA_LISTENERS__TCP__BIND", "127.0.0.1:1884"}});
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  EXPECT_EQ(c.tcp_listeners[0], (TcpListenerConfig{"default", "127.0.0.1", 1884, 1'000'000, true}));
}

TEST(Environment, NamedListeners) {
  const Config c = load_config({}, {{"CICADA_LISTENERS__TCP__DEFAULT__BIND", "[::]:1883"},
                                    {"CICADA_LISTENERS__TCP__INTERNAL__BIND", "127.0.0.1:0"},
                                    {"CICADA_LISTENERS__TCP__INTERNAL__MAX_CONNECTIONS", "10"}});
  ASSERT_EQ(c.tcp_listeners.size(), 2u);
  EXPECT_EQ(c.tcp_listeners[0], (TcpListenerConfig{"default", "::", 1883, 1'000'000, true}));
  EXPECT_EQ(c.tcp_listeners[1], (TcpListenerConfig{"internal", "127.0.0.1", 0, 10, true}));
}

TEST(Environment, ChangesAListenerFromTheFile) {
  const std::string path = testing_support::write_file(
      "[listeners.tcp.default]\nbind = \"0.0.0.0:1883\"\nmax_connections = 5\n");
  const Config c = load_config(testing_support::with_file(path),
                               {{"CICADA_LISTENERS__TCP__DEFAULT__ENABLED", "false"}});
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  EXPECT_EQ(c.tcp_listeners[0], (TcpListenerConfig{"default", "0.0.0.0", 1883, 5, false}));
}

TEST(Environment, NonConfigurationVariablesAreIgnored) {
  EXPECT_EQ(load_config({}, {{"CICADA_URL", "mqtt://localhost"},
                             {"CICADA_CLIENT_ID", "x"},
                             {"PATH", "/usr/bin"},
                             {"HOME", "/root"}}),
            defaults());
}

TEST(Environment, EmptyStringIsAValue) {
  EXPECT_EQ(load_config({}, {{"CICADA_MQTT__RESPONSE_INFORMATION", ""}}).response_information, "");
  EXPECT_EQ(load_error({}, {{"CICADA_MQTT__MAX_INFLIGHT", ""}}),
            "environment variable CICADA_MQTT__MAX_INFLIGHT: mqtt.max_inflight: expected an "
            "integer between 1 and 65535, got \"\"");
}

struct EnvironmentErrorCase {
  std::string_view variable;
  std::string_view value;
  std::string_view message;  // after "environment variable <variable>: "
};

void PrintTo(const EnvironmentErrorCase& c, std::ostream* os) {
  *os << c.variable << "=" << c.value;
}

class EnvironmentErrorTest : public testing::TestWithParam<EnvironmentErrorCase> {};

TEST_P(EnvironmentErrorTest, NamesTheVariable) {
  const auto& c = GetParam();
  EXPECT_EQ(load_error({}, {{std::string(c.variable), std::string(c.value)}}),
            "environment variable " + std::string(c.variable) + ": " + std::string(c.message));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, EnvironmentErrorTest,
    testing::Values(
        EnvironmentErrorCase{"CICADA_MQTT__MAX_INFLITE", "5",
                             "mqtt.max_inflite: unknown key; did you mean "
                             "CICADA_MQTT__MAX_INFLIGHT?"},
        EnvironmentErrorCase{"CICADA_MAX_INFLIGHT", "5",
                             "max_inflight: unknown key; did you mean CICADA_MQTT__MAX_INFLIGHT?"},
        EnvironmentErrorCase{"CICADA_MQTT_MAX_INFLIGHT", "5",  // single '_' after the section
                             "mqtt_max_inflight: unknown key; did you mean "
                             "CICADA_MQTT__MAX_INFLIGHT?"},
        EnvironmentErrorCase{"CICADA_LISTENERS__TCP__BND", "1883",
                             "listeners.tcp.bnd: unknown key; did you mean "
                             "CICADA_LISTENERS__TCP__BIND?"},
        EnvironmentErrorCase{"CICADA_LISTENERS__TCP__A__PORT", "1883",
                             "listeners.tcp.a.port: unknown key; did you mean "
                             "CICADA_LISTENERS__TCP__A__BIND?"},
        EnvironmentErrorCase{"CICADA_NOT_AN_OPTION_AT_ALL", "1",
                             "not_an_option_at_all: unknown key"},
        EnvironmentErrorCase{"CICADA_MQTT__MAX_INFLIGHT", "many",
                             "mqtt.max_inflight: expected an integer between 1 and 65535, got "
                             "\"many\""},
        EnvironmentErrorCase{"CICADA_MQTT__MAX_INFLIGHT", "-1",
                             "mqtt.max_inflight: expected an integer between 1 and 65535, got "
                             "\"-1\""},
        EnvironmentErrorCase{"CICADA_MQTT__MAX_INFLIGHT", "70000",
                             "mqtt.max_inflight: expected an integer between 1 and 65535, got "
                             "\"70000\""},
        EnvironmentErrorCase{"CICADA_MQTT__RETAIN_AVAILABLE", "yes",
                             "mqtt.retain_available: expected true or false, got \"yes\""},
        EnvironmentErrorCase{"CICADA_MQTT__MAX_PACKET_SIZE", "1 MB",
                             "mqtt.max_packet_size: expected a size such as 512B, 64KB, 1MB or 1GB "
                             "(or a plain number of bytes), got \"1 MB\""},
        EnvironmentErrorCase{"CICADA_MQTT__IDLE_TIMEOUT", "soon",
                             "mqtt.idle_timeout: expected a duration such as 500ms, 15s, 5m, 2h or "
                             "1d (or a plain number of seconds), got \"soon\""},
        EnvironmentErrorCase{"CICADA_LOG__LEVEL", "INFO",
                             "log.level: expected one of trace, debug, info, warning, error, "
                             "critical or off, got \"INFO\""},
        EnvironmentErrorCase{"CICADA_LISTENERS__TCP__BIND", "localhost",
                             "listeners.tcp.bind: expected HOST:PORT with a port from 0 to 65535 "
                             "and an IPv6 host in brackets, as in [::]:1883, got \"localhost\""},
        EnvironmentErrorCase{"CICADA_MQTT__RESPONSE_INFORMATION", "\xff",
                             "mqtt.response_information: expected UTF-8 text without U+0000 "
                             "[MQTT-1.5.4-1], [MQTT-1.5.4-2]"}));

TEST(Environment, FromEnvp) {
  std::vector<std::string> entries{"PATH=/usr/bin",
                                   "CICADA_MQTT__MAX_INFLIGHT=64",
                                   "CICADA_MQTT__RESPONSE_INFORMATION=a=b",
                                   "CICADA_EMPTY=",
                                   "cicada_lower=1",
                                   "CICADA_NO_EQUALS"};
  std::vector<char*> envp;
  for (std::string& entry : entries)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  EXPECT_EQ(environment_from(envp.data()),
            (Environment{{"CICADA_EMPTY", ""},
                         {"CICADA_MQTT__MAX_INFLIGHT", "64"},
                         {"CICADA_MQTT__RESPONSE_INFORMATION", "a=b"}}));
  EXPECT_TRUE(environment_from(nullptr).empty());
}

}  // namespace
}  // namespace cicada::broker
