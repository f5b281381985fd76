// Text forms of values: sizes, durations, HOST:PORT, TOML strings, UTF-8.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "broker/config/options.hpp"

namespace cicada::broker::config {
namespace {

struct NumberCase {
  std::string_view text;
  std::optional<std::uint64_t> expected;
};

void PrintTo(const NumberCase& c, std::ostream* os) {
  *os << '"' << c.text << '"';
}

class SizeTest : public testing::TestWithParam<NumberCase> {};

TEST_P(SizeTest, Parses) {
  EXPECT_EQ(parse_size(GetParam().text), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, SizeTest,
    testing::Values(
        NumberCase{"0", 0}, NumberCase{"512", 512}, NumberCase{"512B", 512},
        NumberCase{"64KB", 64 * 1024}, NumberCase{"1MB", 1 << 20}, NumberCase{"1mb", 1 << 20},
        NumberCase{"8Mb", 8 << 20}, NumberCase{"1GB", 1ull << 30}, NumberCase{"2TB", 2ull << 40},
        NumberCase{"268435460", 268435460}, NumberCase{"18446744073709551615", UINT64_MAX},
        // malformed
        NumberCase{"", std::nullopt}, NumberCase{"MB", std::nullopt},
        NumberCase{"1 MB", std::nullopt}, NumberCase{"1.5MB", std::nullopt},
        NumberCase{"-1", std::nullopt}, NumberCase{"+1", std::nullopt},
        NumberCase{"1M", std::nullopt}, NumberCase{"1MiB", std::nullopt},
        NumberCase{"1MBB", std::nullopt}, NumberCase{"0x10", std::nullopt},
        // overflow
        NumberCase{"18446744073709551616", std::nullopt}, NumberCase{"16777216TB", std::nullopt}));

class DurationTest : public testing::TestWithParam<NumberCase> {};

TEST_P(DurationTest, ParsesToMilliseconds) {
  EXPECT_EQ(parse_duration_ms(GetParam().text), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Durations, DurationTest,
    testing::Values(NumberCase{"0", 0}, NumberCase{"30", 30'000},  // a plain number is seconds
                    NumberCase{"500ms", 500}, NumberCase{"15s", 15'000}, NumberCase{"5m", 300'000},
                    NumberCase{"2h", 7'200'000}, NumberCase{"1d", 86'400'000},
                    NumberCase{"1h30m", 5'400'000}, NumberCase{"1m30s", 90'000},
                    NumberCase{"2s500ms", 2'500}, NumberCase{"15S", 15'000}, NumberCase{"0s", 0},
                    // malformed
                    NumberCase{"", std::nullopt}, NumberCase{"s", std::nullopt},
                    NumberCase{"15", 15'000}, NumberCase{"15 s", std::nullopt},
                    NumberCase{"1.5s", std::nullopt}, NumberCase{"-1s", std::nullopt},
                    NumberCase{"5min", std::nullopt}, NumberCase{"1w", std::nullopt},
                    NumberCase{"1h30", std::nullopt},
                    // overflow
                    NumberCase{"18446744073709551615", std::nullopt},
                    NumberCase{"213503982335d", std::nullopt}));

TEST(Format, SizeUsesTheLargestExactUnit) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(128), "128B");
  EXPECT_EQ(format_size(1536), "1536B");
  EXPECT_EQ(format_size(2048), "2KB");
  EXPECT_EQ(format_size(1 << 20), "1MB");
  EXPECT_EQ(format_size(268435460), "268435460B");
  EXPECT_EQ(format_size(1ull << 40), "1TB");
}

TEST(Format, DurationUsesTheLargestExactUnit) {
  EXPECT_EQ(format_duration_ms(0), "0s");
  EXPECT_EQ(format_duration_ms(1), "1ms");
  EXPECT_EQ(format_duration_ms(1500), "1500ms");
  EXPECT_EQ(format_duration_ms(15'000), "15s");
  EXPECT_EQ(format_duration_ms(90'000), "90s");
  EXPECT_EQ(format_duration_ms(300'000), "5m");
  EXPECT_EQ(format_duration_ms(7'200'000), "2h");
  EXPECT_EQ(format_duration_ms(86'400'000), "1d");
  EXPECT_EQ(format_duration_ms(65'535'000), "65535s");
}

TEST(Format, EveryFormattedValueParsesBack) {
  for (std::uint64_t v : {0ull, 1ull, 7ull, 1024ull, 1536ull, 1ull << 20, 3ull << 30, 5ull << 40}) {
    EXPECT_EQ(parse_size(format_size(v)), v) << v;
  }
  for (std::uint64_t v : {0ull, 1ull, 999ull, 1000ull, 61'000ull, 3'600'000ull, 90'061'001ull}) {
    EXPECT_EQ(parse_duration_ms(format_duration_ms(v)), v) << v;
  }
}

struct HostPortCase {
  std::string_view text;
  bool valid;
  std::string_view host = {};
  std::uint16_t port = 0;
};

void PrintTo(const HostPortCase& c, std::ostream* os) {
  *os << '"' << c.text << '"';
}

class HostPortTest : public testing::TestWithParam<HostPortCase> {};

TEST_P(HostPortTest, Parses) {
  const HostPortCase& c = GetParam();
  const auto parsed = parse_host_port(c.text);
  ASSERT_EQ(parsed.has_value(), c.valid);
  if (!c.valid) return;
  EXPECT_EQ(parsed->host, c.host);
  EXPECT_EQ(parsed->port, c.port);
  EXPECT_EQ(parse_host_port(format_host_port(parsed->host, parsed->port))->host, c.host);
}

INSTANTIATE_TEST_SUITE_P(
    HostPorts, HostPortTest,
    testing::Values(HostPortCase{"0.0.0.0:1883", true, "0.0.0.0", 1883},
                    HostPortCase{"127.0.0.1:0", true, "127.0.0.1", 0},
                    HostPortCase{"localhost:65535", true, "localhost", 65535},
                    HostPortCase{"broker-1.example.com:8883", true, "broker-1.example.com", 8883},
                    HostPortCase{"[::]:1883", true, "::", 1883},
                    HostPortCase{"[::1]:0", true, "::1", 0},
                    HostPortCase{"[fe80::1%eth0]:1883", false},
                    HostPortCase{"[2001:db8::7]:1883", true, "2001:db8::7", 1883},
                    HostPortCase{"1883", true, "0.0.0.0", 1883},  // EMQX's bind = 1883
                    HostPortCase{"", false}, HostPortCase{":1883", false},
                    HostPortCase{"0.0.0.0", false}, HostPortCase{"0.0.0.0:", false},
                    HostPortCase{"0.0.0.0:65536", false}, HostPortCase{"0.0.0.0:-1", false},
                    HostPortCase{"0.0.0.0:18830000", false}, HostPortCase{"::1:1883", false},
                    HostPortCase{"[::1]1883", false}, HostPortCase{"[::1]", false},
                    HostPortCase{"[not-ipv6]:1883", false}, HostPortCase{"a b:1883", false},
                    HostPortCase{"65536", false}));

TEST(Format, HostPortBracketsIpv6) {
  EXPECT_EQ(format_host_port("::", 1883), "[::]:1883");
  EXPECT_EQ(format_host_port("0.0.0.0", 0), "0.0.0.0:0");
}

TEST(Format, TomlString) {
  EXPECT_EQ(toml_string("plain"), "\"plain\"");
  EXPECT_EQ(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(toml_string("line\nbreak\ttab"), "\"line\\nbreak\\ttab\"");
  EXPECT_EQ(toml_string(std::string_view("\x01\x7f", 2)), "\"\\u0001\\u007F\"");
  EXPECT_EQ(toml_string("h\xc3\xa9"), "\"h\xc3\xa9\"");
}

TEST(Utf8, MqttStrings) {
  EXPECT_TRUE(is_mqtt_utf8(""));
  EXPECT_TRUE(is_mqtt_utf8("cicada/responses/"));
  EXPECT_TRUE(is_mqtt_utf8("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9b"));
  EXPECT_FALSE(is_mqtt_utf8(std::string_view("a\0b", 3)));  // [MQTT-1.5.4-2]
  EXPECT_FALSE(is_mqtt_utf8("\xc3"));                       // truncated
  EXPECT_FALSE(is_mqtt_utf8("\xc0\xaf"));                   // overlong
  EXPECT_FALSE(is_mqtt_utf8("\xed\xa0\x80"));               // surrogate [MQTT-1.5.4-1]
  EXPECT_FALSE(is_mqtt_utf8("\xf4\x90\x80\x80"));           // above U+10FFFF
  EXPECT_FALSE(is_mqtt_utf8("\xff"));
}

}  // namespace
}  // namespace cicada::broker::config
