// Helpers shared by the broker_config tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "broker/config/config.hpp"

namespace cicada::broker::testing_support {

using Environment = std::map<std::string, std::string>;

// Writes `content` to a new file in the test's temporary directory; returns its path.
inline std::string write_file(std::string_view content) {
  static int counter = 0;
  const std::string path = ::testing::TempDir() + "cicada_config_" + std::to_string(getpid()) +
                           "_" + std::to_string(++counter) + ".toml";
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

inline CommandLine with_file(const std::string& path) {
  CommandLine cli;
  cli.config_file = path;
  return cli;
}

// The ConfigError message load_config throws, or "no error".
inline std::string load_error(const CommandLine& cli, const Environment& environment = {}) {
  try {
    (void)load_config(cli, environment);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// The configuration load_config builds from nothing: the built-in defaults.
inline Config defaults() {
  return load_config({}, {});
}

}  // namespace cicada::broker::testing_support
