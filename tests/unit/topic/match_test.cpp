// Topic filter matching (MQTT 5.0 section 4.7).
#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include <cicada/topic/topic.hpp>

namespace cicada::topic {
namespace {

struct MatchCase {
  std::string_view filter;
  std::string_view name;
  bool expected;
};

void PrintTo(const MatchCase& c, std::ostream* os) {
  *os << '"' << c.filter << "\" " << (c.expected ? "matches" : "does not match") << " \"" << c.name
      << '"';
}

class MatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(MatchTest, Matches) {
  const MatchCase& c = GetParam();
  // Guard the table itself: matches() is only defined for valid inputs.
  ASSERT_EQ(validate_filter(c.filter), TopicError::ok);
  ASSERT_EQ(validate_name(c.name), TopicError::ok);
  EXPECT_EQ(matches(c.filter, c.name), c.expected);
}

// Section 4.7.1.2: the multi-level wildcard.
INSTANTIATE_TEST_SUITE_P(
    MultiLevel, MatchTest,
    testing::Values(
        MatchCase{"sport/tennis/player1/#", "sport/tennis/player1", true},
        MatchCase{"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        MatchCase{"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        MatchCase{"sport/#", "sport", true},  // '#' includes the parent level
        MatchCase{"sport/#", "sport/", true}, MatchCase{"sport/#", "sport/a/b", true},
        MatchCase{"sport/tennis/player1/#", "sport/tennis", false},
        MatchCase{"sport/tennis/player1/#", "sport/tennis/player2", false},
        MatchCase{"sport/#", "sports", false}, MatchCase{"sport/#", "spor", false},
        MatchCase{"sport/#", "sportx/a", false}, MatchCase{"#", "sport", true},
        MatchCase{"#", "/", true}, MatchCase{"#", "a/b/c", true}, MatchCase{"/#", "/", true},
        MatchCase{"/#", "/a/b", true}, MatchCase{"/#", "a", false}, MatchCase{"a/#", "a//", true},
        MatchCase{"+/#", "a", true}, MatchCase{"+/#", "a/b/c", true}, MatchCase{"+/#", "/", true}));

// Section 4.7.1.3: the single-level wildcard.
INSTANTIATE_TEST_SUITE_P(
    SingleLevel, MatchTest,
    testing::Values(MatchCase{"sport/tennis/+", "sport/tennis/player1", true},
                    MatchCase{"sport/tennis/+", "sport/tennis/player2", true},
                    MatchCase{"sport/tennis/+", "sport/tennis/player1/ranking", false},
                    MatchCase{"sport/+", "sport", false}, MatchCase{"sport/+", "sport/", true},
                    MatchCase{"+/+", "/finance", true}, MatchCase{"/+", "/finance", true},
                    MatchCase{"+", "/finance", false}, MatchCase{"+", "/", false},
                    MatchCase{"+/+", "/", true}, MatchCase{"+", "a", true},
                    MatchCase{"+", "a/b", false}, MatchCase{"+/+", "a", false},
                    MatchCase{"sport/+/player1", "sport/tennis/player1", true},
                    MatchCase{"sport/+/player1", "sport//player1", true},  // empty level
                    MatchCase{"sport/+/player1", "sport/player1", false},
                    MatchCase{"sport/+/player1", "sport/tennis/player2", false},
                    MatchCase{"+/tennis/#", "sport/tennis", true},
                    MatchCase{"+/tennis/#", "sport/tennis/player1/ranking", true},
                    MatchCase{"+/tennis/#", "sport/golf", false}, MatchCase{"a/+/+", "a//", true},
                    MatchCase{"a/+/+", "a/", false}, MatchCase{"+/b", "a/bc", false},
                    MatchCase{"+/b", "ab", false}));

// Section 4.7.2: topics beginning with '$' [MQTT-4.7.2-1].
INSTANTIATE_TEST_SUITE_P(
    Dollar, MatchTest,
    testing::Values(MatchCase{"#", "$SYS/monitor/Clients", false}, MatchCase{"#", "$SYS", false},
                    MatchCase{"+", "$SYS", false},
                    MatchCase{"+/monitor/Clients", "$SYS/monitor/Clients", false},
                    MatchCase{"+/#", "$SYS/x", false},
                    MatchCase{"$SYS/#", "$SYS/monitor/Clients", true},
                    MatchCase{"$SYS/#", "$SYS/x", true}, MatchCase{"$SYS/#", "$SYS", true},
                    MatchCase{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
                    MatchCase{"$SYS", "$SYS", true}, MatchCase{"$SYS/+", "$SYS/a/b", false},
                    MatchCase{"$SYS/+", "$SYS/", true},
                    // Only the first character counts: '$' deeper in the name is ordinary.
                    MatchCase{"+/$SYS", "a/$SYS", true}, MatchCase{"#", "a/$b", true},
                    MatchCase{"a/+", "a/$b", true}));

// Section 4.7.3: names and filters compare byte by byte.
INSTANTIATE_TEST_SUITE_P(
    Literal, MatchTest,
    testing::Values(
        MatchCase{"ACCOUNTS", "ACCOUNTS", true}, MatchCase{"ACCOUNTS", "Accounts", false},
        MatchCase{"Accounts payable", "Accounts payable", true},
        MatchCase{"/finance", "finance", false}, MatchCase{"finance", "/finance", false},
        MatchCase{"finance/", "finance", false}, MatchCase{"finance", "finance/", false},
        MatchCase{"a//b", "a//b", true}, MatchCase{"a//b", "a/b", false}, MatchCase{"/", "/", true},
        MatchCase{"/", "//", false}, MatchCase{"a/b", "a/bc", false},
        MatchCase{"a/bc", "a/b", false}, MatchCase{"caf\xc3\xa9", "caf\xc3\xa9", true},
        MatchCase{"caf\xc3\xa9", "cafe", false}));

TEST(MatchLong, MaximumLengthTopics) {
  constexpr std::size_t max_length = 65535;
  std::string name(max_length, 'a');
  for (std::size_t i = 1; i < max_length; i += 2)
    name[i] = '/';
  EXPECT_TRUE(matches(name, name));
  EXPECT_TRUE(matches("#", name));
  EXPECT_TRUE(matches("a/#", name));
  std::string filter = name;
  for (std::size_t i = 0; i < max_length; i += 2)
    filter[i] = '+';
  EXPECT_TRUE(matches(filter, name));
  filter.back() = 'b';
  EXPECT_FALSE(matches(filter, name));
}

}  // namespace
}  // namespace cicada::topic
