// The command line, and the precedence default < file < environment < command line.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "unit/broker_config/test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::load_error;
using testing_support::write_file;

CommandLine parse(std::initializer_list<std::string> args) {
  std::vector<std::string> storage{"cicada"};
  storage.insert(storage.end(), args);
  std::vector<char*> argv;
  for (std::string& arg : storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(storage.size()), argv.data());
}

std::string parse_error(std::initializer_list<std::string> args) {
  try {
    (void)parse(args);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CommandLine, NothingGiven) {
  const CommandLine cli = parse({});
  EXPECT_FALSE(cli.config_file);
  EXPECT_FALSE(cli.print_config);
  EXPECT_FALSE(cli.exit_now);
  EXPECT_TRUE(cli.overrides.empty());
  EXPECT_TRUE(cli.listen.empty());
}

TEST(CommandLine, EveryFlag) {
  const CommandLine cli =
      parse({"--config", "/etc/cicada/cicada.toml", "--listen", "127.0.0.1:0", "-l", "[::1]:1884",
             "--threads", "4", "--log-level", "debug", "--set", "mqtt.max_inflight=64", "--set",
             "mqtt.response_information=a=b", "--print-config"});
  EXPECT_EQ(cli.config_file, "/etc/cicada/cicada.toml");
  EXPECT_TRUE(cli.print_config);
  EXPECT_FALSE(cli.exit_now);
  EXPECT_EQ(cli.listen, (std::vector<std::string>{"127.0.0.1:0", "[::1]:1884"}));
  using Overrides = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(cli.overrides, (Overrides{{"mqtt.max_inflight", "64"},
                                      {"mqtt.response_information", "a=b"},
                                      {"node.worker_threads", "4"},
                                      {"log.level", "debug"}}));
}

TEST(CommandLine, ShortAndEqualsForms) {
  const CommandLine cli = parse({"-c", "a.toml", "--threads=2", "--log-level=error"});
  EXPECT_EQ(cli.config_file, "a.toml");
  using Overrides = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(cli.overrides, (Overrides{{"node.worker_threads", "2"}, {"log.level", "error"}}));
}

TEST(CommandLine, Help) {
  testing::internal::CaptureStdout();
  const CommandLine cli = parse({"--help"});
  const std::string help = testing::internal::GetCapturedStdout();
  EXPECT_TRUE(cli.exit_now);
  EXPECT_EQ(cli.exit_code, 0);
  for (const char* flag : {"--config", "--listen", "--threads", "--log-level", "--set",
                           "--print-config", "--version", "CICADA_"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag << " missing from\n" << help;
  }
}

TEST(CommandLine, Version) {
  testing::internal::CaptureStdout();
  const CommandLine cli = parse({"--version"});
  EXPECT_EQ(testing::internal::GetCapturedStdout().rfind("cicada ", 0), 0u);
  EXPECT_TRUE(cli.exit_now);
  EXPECT_EQ(cli.exit_code, 0);
}

TEST(CommandLine, Errors) {
  EXPECT_EQ(parse_error({"--frobnicate"}),
            "command line: The following argument was not expected: --frobnicate");
  EXPECT_EQ(parse_error({"stray"}), "command line: The following argument was not expected: stray");
  EXPECT_EQ(parse_error({"--threads"}), "command line: --threads: 1 required N missing");
  EXPECT_EQ(parse_error({"--set", "mqtt.max_inflight"}),
            "--set: expected KEY=VALUE, as in mqtt.max_inflight=64, got \"mqtt.max_inflight\"");
  EXPECT_EQ(parse_error({"--set", "=5"}),
            "--set: expected KEY=VALUE, as in mqtt.max_inflight=64, got \"=5\"");
}

// Flags only collect text; load_config checks the values, naming the flag.
TEST(CommandLine, ValuesAreCheckedByLoadConfig) {
  EXPECT_EQ(load_error(parse({"--threads", "many"})),
            "--threads: node.worker_threads: expected an integer between 0 and 1024, got "
            "\"many\"");
  EXPECT_EQ(load_error(parse({"--threads", "2000"})),
            "--threads: node.worker_threads: expected an integer between 0 and 1024, got "
            "\"2000\"");
  EXPECT_EQ(load_error(parse({"--log-level", "loud"})),
            "--log-level: log.level: expected one of trace, debug, info, warning, error, critical "
            "or off, got \"loud\"");
  EXPECT_EQ(load_error(parse({"--set", "mqtt.max_inflite=5"})),
            "--set: mqtt.max_inflite: unknown key; did you mean mqtt.max_inflight?");
  EXPECT_EQ(load_error(parse({"--listen", "localhost"})),
            "--listen: expected HOST:PORT with a port from 0 to 65535 and an IPv6 host in "
            "brackets, as in [::]:1883, got \"localhost\"");
  EXPECT_EQ(load_error(parse({"--config", "/nonexistent.toml"})),
            "/nonexistent.toml: cannot read the configuration file: No such file or directory");
}

TEST(Listen, ReplacesTheBuiltInListener) {
  const Config c = load_config(parse({"--listen", "127.0.0.1:0"}), {});
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  EXPECT_EQ(c.tcp_listeners[0], (TcpListenerConfig{"cli-1", "127.0.0.1", 0, 1'000'000, true}));
}

TEST(Listen, RepeatableAndIpv6) {
  const Config c = load_config(parse({"--listen", "127.0.0.1:0", "--listen", "[::1]:0"}), {});
  ASSERT_EQ(c.tcp_listeners.size(), 2u);
  EXPECT_EQ(c.tcp_listeners[0].name, "cli-1");
  EXPECT_EQ(c.tcp_listeners[1], (TcpListenerConfig{"cli-2", "::1", 0, 1'000'000, true}));
}

TEST(Listen, AddsToListenersFromFileAndEnvironment) {
  CommandLine cli = parse({"--listen", "127.0.0.1:0"});
  cli.config_file = write_file("[listeners.tcp.public]\nbind = \"0.0.0.0:1883\"\n");
  const Config c = load_config(cli, {{"CICADA_LISTENERS__TCP__LOCAL__BIND", "127.0.0.1:1884"}});
  ASSERT_EQ(c.tcp_listeners.size(), 3u);
  EXPECT_EQ(c.tcp_listeners[0].name, "local");  // file and environment listeners by name
  EXPECT_EQ(c.tcp_listeners[1].name, "public");
  EXPECT_EQ(c.tcp_listeners[2].name, "cli-1");  // then --listen, in order
}

TEST(Listen, Conflicts) {
  CommandLine cli = parse({"--listen", "0.0.0.0:1883"});
  cli.config_file = write_file("[listeners.tcp.public]\nbind = \"0.0.0.0:1883\"\n");
  EXPECT_EQ(load_error(cli),
            "--listen: listeners.tcp.cli-1.bind: 0.0.0.0:1883 is also the bind of listener "
            "public; give each listener its own port");
  cli.config_file = write_file("[listeners.tcp.cli-1]\nbind = \"0.0.0.0:1884\"\n");
  EXPECT_EQ(load_error(cli),
            "--listen: listeners.tcp.cli-1: this name is already used by the configuration; "
            "rename that table");
}

// Each source overrides the ones before it, key by key.
TEST(Precedence, DefaultFileEnvironmentCommandLine) {
  CommandLine cli = parse({"--threads", "8"});
  cli.config_file = write_file(
      "[mqtt]\nmax_inflight = 10\nmax_keepalive = 100\nmax_topic_levels = 5\n"
      "[node]\nworker_threads = 2\n");
  const Config c = load_config(cli, {{"CICADA_MQTT__MAX_KEEPALIVE", "60"},
                                     {"CICADA_NODE__WORKER_THREADS", "4"},
                                     {"CICADA_MQTT__MAX_TOPIC_LEVELS", "6"}});
  EXPECT_EQ(c.max_packet_size, 1u << 20);  // default
  EXPECT_EQ(c.max_inflight, 10);           // file
  EXPECT_EQ(c.max_keepalive, 60);          // environment over file
  EXPECT_EQ(c.max_topic_levels, 6);        // environment over file
  EXPECT_EQ(c.worker_threads, 8u);         // command line over environment over file
}

TEST(Precedence, DedicatedFlagsWinOverSet) {
  const Config c = load_config(parse({"--log-level", "error", "--set", "log.level=trace"}), {});
  EXPECT_EQ(c.log_level, "error");
}

TEST(Precedence, ErrorsInALaterSourceStillStopStartUp) {
  // A bad value is an error even when a later source would override it.
  EXPECT_EQ(load_error(parse({"--threads", "1"}), {{"CICADA_NODE__WORKER_THREADS", "lots"}}),
            "environment variable CICADA_NODE__WORKER_THREADS: node.worker_threads: expected an "
            "integer between 0 and 1024, got \"lots\"");
}

}  // namespace
}  // namespace cicada::broker
