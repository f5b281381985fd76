// Topic name / filter validation and $share parsing (MQTT 5.0 sections 4.7, 4.8.2).
#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include <cicada/topic/topic.hpp>

namespace cicada::topic {

// gtest prints failing parameters and values through these.
void PrintTo(TopicError error, std::ostream* os) {
  *os << to_string(error);
}

namespace {

using namespace std::string_literals;

struct Case {
  std::string input;
  TopicError expected;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << '"' << c.input << "\" -> " << to_string(c.expected);
}

// --- topic names ---------------------------------------------------------------------

class NameTest : public testing::TestWithParam<Case> {};

TEST_P(NameTest, Validates) {
  EXPECT_EQ(validate_name(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Topic, NameTest,
    testing::Values(Case{"a", TopicError::ok}, Case{"sport/tennis/player1", TopicError::ok},
                    // Section 4.7.3: a space is an ordinary character; case is significant.
                    Case{"Accounts payable", TopicError::ok}, Case{"ACCOUNTS", TopicError::ok},
                    // Empty levels and '$' names are valid names.
                    Case{"/", TopicError::ok}, Case{"//", TopicError::ok},
                    Case{"/finance", TopicError::ok}, Case{"a//b", TopicError::ok},
                    Case{"a/", TopicError::ok}, Case{"$SYS/monitor/Clients", TopicError::ok},
                    Case{"$share/g/a", TopicError::ok},
                    // Non-ASCII UTF-8 is opaque bytes here.
                    Case{"caf\xc3\xa9/\xe2\x82\xac", TopicError::ok},
                    Case{"", TopicError::empty},                            // [MQTT-4.7.3-1]
                    Case{"a\0b"s, TopicError::null_character},              // [MQTT-4.7.3-2]
                    Case{"\0"s, TopicError::null_character},                // [MQTT-4.7.3-2]
                    Case{"a/b\0"s, TopicError::null_character},             // [MQTT-4.7.3-2]
                    Case{"+", TopicError::wildcard_in_name},                // [MQTT-3.3.2-2]
                    Case{"#", TopicError::wildcard_in_name},                // [MQTT-3.3.2-2]
                    Case{"sport/+/player1", TopicError::wildcard_in_name},  // [MQTT-3.3.2-2]
                    Case{"sport/#", TopicError::wildcard_in_name},          // [MQTT-3.3.2-2]
                    Case{"a+b", TopicError::wildcard_in_name},              // [MQTT-3.3.2-2]
                    Case{"a#", TopicError::wildcard_in_name},               // [MQTT-3.3.2-2]
                    // U+0000 wins over a wildcard, whichever comes first.
                    Case{"+\0"s, TopicError::null_character}));

// --- ordinary topic filters ------------------------------------------------------------

class FilterTest : public testing::TestWithParam<Case> {};

TEST_P(FilterTest, Validates) {
  EXPECT_EQ(validate_filter(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Topic, FilterTest,
    testing::Values(
        Case{"a", TopicError::ok}, Case{"sport/tennis/player1", TopicError::ok},
        Case{"/", TopicError::ok}, Case{"/a", TopicError::ok}, Case{"a//b", TopicError::ok},
        Case{"$SYS/#", TopicError::ok}, Case{"$SYS/monitor/+", TopicError::ok},
        // Section 4.7.1.2 examples.
        Case{"#", TopicError::ok}, Case{"sport/tennis/#", TopicError::ok},
        Case{"sport/tennis#", TopicError::wildcard_not_alone},      // [MQTT-4.7.1-1]
        Case{"sport/tennis/#/ranking", TopicError::hash_not_last},  // [MQTT-4.7.1-1]
        // Section 4.7.1.3 examples.
        Case{"+", TopicError::ok}, Case{"+/tennis/#", TopicError::ok},
        Case{"sport/+/player1", TopicError::ok},
        Case{"sport+", TopicError::wildcard_not_alone},  // [MQTT-4.7.1-2]
        Case{"+/+", TopicError::ok}, Case{"/+", TopicError::ok}, Case{"+/", TopicError::ok},
        Case{"/#", TopicError::ok}, Case{"+/#", TopicError::ok}, Case{"//#", TopicError::ok},
        Case{"++", TopicError::wildcard_not_alone},      // [MQTT-4.7.1-2]
        Case{"+a", TopicError::wildcard_not_alone},      // [MQTT-4.7.1-2]
        Case{"a/+b/c", TopicError::wildcard_not_alone},  // [MQTT-4.7.1-2]
        Case{"a/b+/c", TopicError::wildcard_not_alone},  // [MQTT-4.7.1-2]
        Case{"a#", TopicError::wildcard_not_alone},      // [MQTT-4.7.1-1]
        Case{"#a", TopicError::wildcard_not_alone},      // [MQTT-4.7.1-1]
        Case{"a/#b", TopicError::wildcard_not_alone},    // [MQTT-4.7.1-1]
        Case{"+#", TopicError::wildcard_not_alone},      // [MQTT-4.7.1-2]
        Case{"##", TopicError::wildcard_not_alone},      // [MQTT-4.7.1-1]
        Case{"#/", TopicError::hash_not_last},           // [MQTT-4.7.1-1]
        Case{"#/a", TopicError::hash_not_last},          // [MQTT-4.7.1-1]
        Case{"a/#/#", TopicError::hash_not_last},        // [MQTT-4.7.1-1]
        Case{"", TopicError::empty},                     // [MQTT-4.7.3-1]
        Case{"a/\0"s, TopicError::null_character},       // [MQTT-4.7.3-2]
        Case{"#\0"s, TopicError::null_character},        // [MQTT-4.7.3-2]
        // Only the exact prefix "$share/" makes a shared filter.
        Case{"$share", TopicError::ok}, Case{"$sharex/g/a", TopicError::ok},
        Case{"$SHARE/g", TopicError::ok}, Case{"$share+", TopicError::wildcard_not_alone}));

// --- shared subscription filters ---------------------------------------------------------

class SharedFilterTest : public testing::TestWithParam<Case> {};

TEST_P(SharedFilterTest, Validates) {
  EXPECT_EQ(validate_filter(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Topic, SharedFilterTest,
    testing::Values(
        // Section 4.8.2 examples.
        Case{"$share/consumer1/sport/tennis/+", TopicError::ok},
        Case{"$share/consumer2/sport/tennis/+", TopicError::ok},
        Case{"$share/consumer1//finance", TopicError::ok}, Case{"$share/g/#", TopicError::ok},
        Case{"$share/g/+", TopicError::ok}, Case{"$share/g//", TopicError::ok},
        Case{"$share/g/$SYS/#", TopicError::ok}, Case{"$share/$g/a", TopicError::ok},
        // The inner filter is not itself a share, just a structurally valid filter.
        Case{"$share/g/$share/h/a", TopicError::ok}, Case{"$share/g/$share", TopicError::ok},
        Case{"$share//a", TopicError::invalid_share_name},           // [MQTT-4.8.2-1]
        Case{"$share/", TopicError::invalid_share_name},             // [MQTT-4.8.2-1]
        Case{"$share//", TopicError::invalid_share_name},            // [MQTT-4.8.2-1]
        Case{"$share/+/a", TopicError::invalid_share_name},          // [MQTT-4.8.2-1]
        Case{"$share/#/a", TopicError::invalid_share_name},          // [MQTT-4.8.2-1]
        Case{"$share/g+/a", TopicError::invalid_share_name},         // [MQTT-4.8.2-1]
        Case{"$share/g#", TopicError::invalid_share_name},           // [MQTT-4.8.2-1]
        Case{"$share/+", TopicError::invalid_share_name},            // [MQTT-4.8.2-1]
        Case{"$share/g", TopicError::share_without_filter},          // [MQTT-4.8.2-2]
        Case{"$share/g/", TopicError::share_without_filter},         // [MQTT-4.8.2-2]
        Case{"$share/consumer1", TopicError::share_without_filter},  // [MQTT-4.8.2-2]
        // The inner filter follows the ordinary filter rules.
        Case{"$share/g/a#", TopicError::wildcard_not_alone},  // [MQTT-4.7.1-1]
        Case{"$share/g/a+", TopicError::wildcard_not_alone},  // [MQTT-4.7.1-2]
        Case{"$share/g/#/a", TopicError::hash_not_last},      // [MQTT-4.7.1-1]
        Case{"$share/g/a\0"s, TopicError::null_character},    // [MQTT-4.7.3-2]
        Case{"$share/g\0/a"s, TopicError::null_character}));  // [MQTT-4.7.3-2]

// --- length limit ------------------------------------------------------------------------

constexpr std::size_t max_length = 65535;  // [MQTT-4.7.3-3]

TEST(TopicLength, NameAtLimitIsValid) {
  EXPECT_EQ(validate_name(std::string(max_length, 'a')), TopicError::ok);
}

TEST(TopicLength, NameOverLimitIsTooLong) {
  EXPECT_EQ(validate_name(std::string(max_length + 1, 'a')), TopicError::too_long);
}

TEST(TopicLength, FilterAtLimitIsValid) {
  std::string filter(max_length, 'a');
  filter[max_length - 2] = '/';
  filter[max_length - 1] = '#';
  EXPECT_EQ(validate_filter(filter), TopicError::ok);
}

TEST(TopicLength, FilterOverLimitIsTooLong) {
  EXPECT_EQ(validate_filter(std::string(max_length + 1, 'a')), TopicError::too_long);
}

TEST(TopicLength, SharedFilterCountsItsPrefix) {
  // The limit applies to the string on the wire, "$share/g/" included.
  const std::string prefix = "$share/g/";
  EXPECT_EQ(validate_filter(prefix + std::string(max_length - prefix.size(), 'a')), TopicError::ok);
  EXPECT_EQ(validate_filter(prefix + std::string(max_length - prefix.size() + 1, 'a')),
            TopicError::too_long);
}

TEST(TopicLength, TooLongWinsOverLaterErrors) {
  EXPECT_EQ(validate_name(std::string(max_length + 1, '+')), TopicError::too_long);
  EXPECT_EQ(validate_filter(std::string(max_length + 1, '\0')), TopicError::too_long);
}

// --- parse_shared --------------------------------------------------------------------------

TEST(ParseShared, SplitsGroupAndFilter) {
  const auto shared = parse_shared("$share/consumer1/sport/tennis/+");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "consumer1");
  EXPECT_EQ(shared->filter, "sport/tennis/+");
}

TEST(ParseShared, KeepsLeadingSlashOfFilter) {
  // Section 4.8.2: "$share/consumer1//finance" is ShareName "consumer1", filter "/finance".
  const auto shared = parse_shared("$share/consumer1//finance");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "consumer1");
  EXPECT_EQ(shared->filter, "/finance");
}

TEST(ParseShared, InnerShareIsAnOrdinaryFilter) {
  const auto shared = parse_shared("$share/g/$share/h/#");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "g");
  EXPECT_EQ(shared->filter, "$share/h/#");
}

TEST(ParseShared, NonSharedFiltersGiveNullopt) {
  for (const std::string_view filter :
       {"a/b", "#", "$share", "$sharex/g/a", "$SHARE/g/a", "$SYS/#", "share/g/a", ""}) {
    EXPECT_FALSE(parse_shared(filter).has_value()) << filter;
  }
}

TEST(ParseShared, ShareWithoutFilterHasEmptyFilter) {
  // Not valid, but parse_shared must stay within the string.
  const auto shared = parse_shared("$share/g");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "g");
  EXPECT_TRUE(shared->filter.empty());
}

TEST(ParseShared, ResultsPointIntoTheInput) {
  // substr shares: no copy is made (STYLE.md 5).
  const std::string_view input = "$share/g/a/b";
  const auto shared = parse_shared(input);
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group.data(), input.data() + 7);
  EXPECT_EQ(shared->filter.data(), input.data() + 9);
}

// --- has_wildcard / to_string ----------------------------------------------------------------

TEST(HasWildcard, DetectsPlusAndHash) {
  EXPECT_TRUE(has_wildcard("+"));
  EXPECT_TRUE(has_wildcard("#"));
  EXPECT_TRUE(has_wildcard("sport/+/player1"));
  EXPECT_TRUE(has_wildcard("sport/#"));
  EXPECT_TRUE(has_wildcard("$share/g/a/+"));
  EXPECT_FALSE(has_wildcard("sport/tennis"));
  EXPECT_FALSE(has_wildcard("/"));
  EXPECT_FALSE(has_wildcard("$SYS/x"));
  EXPECT_FALSE(has_wildcard(""));
}

TEST(TopicErrorString, EveryValueHasADistinctName) {
  const TopicError all[] = {
      TopicError::ok,
      TopicError::empty,
      TopicError::too_long,
      TopicError::null_character,
      TopicError::wildcard_in_name,
      TopicError::hash_not_last,
      TopicError::wildcard_not_alone,
      TopicError::invalid_share_name,
      TopicError::share_without_filter,
  };
  for (const TopicError a : all) {
    EXPECT_FALSE(to_string(a).empty());
    for (const TopicError b : all) {
      if (a != b) {
        EXPECT_NE(to_string(a), to_string(b));
      }
    }
  }
}

}  // namespace
}  // namespace cicada::topic
