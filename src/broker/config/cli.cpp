// `cicada` command-line flags (CLI11). Flags only collect text: load_config checks every
// value against the options table, so `--threads x` and CICADA_NODE__WORKER_THREADS=x fail
// with the same message.
#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"

#ifndef CICADA_VERSION
#define CICADA_VERSION "unknown"
#endif

namespace cicada::broker {

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine cli;
  CLI::App app{"Cicada MQTT broker.", "cicada"};
  app.set_version_flag("--version", "cicada " CICADA_VERSION);
  app.get_formatter()->column_width(30);

  std::string config_file;
  std::string threads;
  std::string log_level;
  std::vector<std::string> sets;
  auto* config_option =
      app.add_option("-c,--config", config_file, "TOML configuration file (see docs/config.md)")
          ->type_name("FILE");
  app.add_option("-l,--listen", cli.listen,
                 "Add a TCP listener, repeatable; IPv6 as [::]:1883, port 0 = any free port")
      ->type_name("HOST:PORT")
      ->take_all();
  auto* threads_option = app.add_option("-t,--threads", threads,
                                        "Worker threads, 0 = one per core (node.worker_threads)")
                             ->type_name("N");
  auto* log_level_option =
      app.add_option("--log-level", log_level,
                     "trace, debug, info, warning, error, critical or off (log.level)")
          ->type_name("LEVEL");
  app.add_option("--set", sets, "Set any option, e.g. --set mqtt.max_inflight=64; repeatable")
      ->type_name("KEY=VALUE")
      ->take_all();
  app.add_flag("--print-config", cli.print_config,
               "Print the effective configuration as TOML and exit");
  app.footer(
      "--listen replaces the default listener (0.0.0.0:1883) unless the file or environment\n"
      "names listeners.\n"
      "Precedence: built-in default < --config file < CICADA_* environment < command line.\n"
      "Every option has an environment form: mqtt.max_packet_size is\n"
      "CICADA_MQTT__MAX_PACKET_SIZE; CICADA_LISTENERS__TCP__BIND sets the default listener.\n"
      "All options: docs/config.md, or --print-config.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help or --version
    cli.exit_code = app.exit(e);
    cli.exit_now = true;
    return cli;
  } catch (const CLI::ParseError& e) {
    throw ConfigError(std::string("command line: ") + e.what());
  }

  if (config_option->count() > 0) cli.config_file = config_file;
  for (const std::string& set : sets) {
    const auto equals = set.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw ConfigError("--set: expected KEY=VALUE, as in mqtt.max_inflight=64, got \"" + set +
                        "\"");
    }
    cli.overrides.emplace_back(set.substr(0, equals), set.substr(equals + 1));
  }
  // After --set, so that the dedicated flags win over a --set of the same key.
  if (threads_option->count() > 0) cli.overrides.emplace_back("node.worker_threads", threads);
  if (log_level_option->count() > 0) cli.overrides.emplace_back("log.level", log_level);
  return cli;
}

}  // namespace cicada::broker
