// The options table itself, and the configuration built from nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <variant>

#include "broker/config/config.hpp"
#include "broker/config/options.hpp"
#include "unit/broker_config/test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::defaults;

std::string show(const config::OptionValue& value) {
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* n = std::get_if<std::uint64_t>(&value)) return std::to_string(*n);
  return std::get<std::string>(value);
}

TEST(Defaults, NothingGivenMeansOneListenerOnPort1883) {
  const Config config = defaults();
  ASSERT_EQ(config.tcp_listeners.size(), 1u);
  const TcpListenerConfig& listener = config.tcp_listeners[0];
  EXPECT_EQ(listener.name, "default");
  EXPECT_EQ(listener.host, "0.0.0.0");
  EXPECT_EQ(listener.port, 1883);
  EXPECT_EQ(listener.max_connections, 1'000'000u);
  EXPECT_TRUE(listener.enabled);
}

TEST(Defaults, SpotChecks) {
  const Config config = defaults();
  EXPECT_EQ(config.max_packet_size, 1u << 20);
  EXPECT_EQ(config.max_inflight, 32);
  EXPECT_EQ(config.session_expiry_interval, 7200u);
  EXPECT_EQ(config.idle_timeout_ms, 15000u);
  EXPECT_EQ(config.max_outbound_bytes, 8u << 20);
  EXPECT_EQ(config.shared_subscription_strategy, SharedStrategy::round_robin);
  EXPECT_EQ(config.retainer_max_bytes, 1ull << 30);
  EXPECT_EQ(config.worker_threads, 0u);
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.response_information, "");
}

// The table's defaults (which load_config applies) and config.hpp's member initialisers
// (which code building a Config by hand gets) are two spellings of one fact.
TEST(Defaults, TableAgreesWithMemberInitialisers) {
  const Config loaded = defaults();
  const Config initialised{};
  for (const config::Option& o : config::options()) {
    EXPECT_EQ(show(o.get(loaded)), show(o.get(initialised))) << o.key;
  }
  Config expected{};
  expected.tcp_listeners = loaded.tcp_listeners;
  EXPECT_EQ(loaded, expected);
}

TEST(Defaults, ListenerTableAgreesWithMemberInitialisers) {
  TcpListenerConfig expected{};
  expected.name = "default";
  EXPECT_EQ(defaults().tcp_listeners.at(0), expected);
}

TEST(OptionsTable, KeysAreUniqueAndWellFormed) {
  std::set<std::string_view> keys;
  for (const config::Option& o : config::options()) {
    EXPECT_TRUE(keys.insert(o.key).second) << "duplicate " << o.key;
    EXPECT_TRUE(std::all_of(o.key.begin(), o.key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || c == '_' || c == '.' || (c >= '0' && c <= '9');
    })) << o.key;
    // section.option: print_config writes one [section] per first component.
    EXPECT_NE(o.key.find('.'), std::string_view::npos) << o.key;
    EXPECT_FALSE(o.key.starts_with("listeners.")) << o.key;
  }
}

TEST(OptionsTable, RowsAreComplete) {
  auto check = [](const auto& o) {
    EXPECT_FALSE(o.description.empty()) << o.key;
    EXPECT_TRUE(o.description.ends_with('.')) << o.key;
    EXPECT_NE(o.set, nullptr) << o.key;
    EXPECT_NE(o.get, nullptr) << o.key;
    EXPECT_LE(o.min, o.max) << o.key;
    if (o.type == config::OptionType::enumeration) {
      EXPECT_NE(std::find(o.choices.begin(), o.choices.end(), o.default_value), o.choices.end())
          << o.key;
    }
  };
  for (const config::Option& o : config::options())
    check(o);
  for (const config::ListenerOption& o : config::listener_options())
    check(o);
}

// Sections appear in one block each, so print_config writes each [section] once.
TEST(OptionsTable, SectionsAreContiguous) {
  std::set<std::string_view> finished;
  std::string_view current;
  for (const config::Option& o : config::options()) {
    const std::string_view section = o.key.substr(0, o.key.find('.'));
    if (section != current) {
      EXPECT_FALSE(finished.contains(section)) << o.key;
      if (!current.empty()) finished.insert(current);
      current = section;
    }
  }
}

TEST(OptionsTable, EveryOptionHasAnEnvironmentForm) {
  for (const config::Option& o : config::options()) {
    const std::string name = config::environment_name(o.key);
    // Setting each variable to the default is accepted and changes nothing.
    EXPECT_EQ(load_config({}, {{name, std::string(o.default_value)}}), defaults()) << name;
  }
  EXPECT_EQ(config::environment_name("mqtt.max_packet_size"), "CICADA_MQTT__MAX_PACKET_SIZE");
  EXPECT_EQ(config::environment_name("listeners.tcp.default.bind"),
            "CICADA_LISTENERS__TCP__DEFAULT__BIND");
}

}  // namespace
}  // namespace cicada::broker
