// Topic templates: expansion, validation, and the wildcard filter derived from them.
#include "topic_template.hpp"

#include <gtest/gtest.h>

namespace cicada::bench {
namespace {

TEST(TopicTemplate, ExpandsPlaceholders) {
  const TemplateValues values{.index = 42, .client_id = "bench_pub_42", .username = "alice"};
  EXPECT_EQ(expand_template("t/%i", values), "t/42");
  EXPECT_EQ(expand_template("%c/x", values), "bench_pub_42/x");
  EXPECT_EQ(expand_template("u/%u/%i/%i", values), "u/alice/42/42");
  EXPECT_EQ(expand_template("100%%", values), "100%");
  EXPECT_EQ(expand_template("plain/topic", values), "plain/topic");
  EXPECT_EQ(expand_template("", values), "");
}

TEST(TopicTemplate, UnknownPlaceholdersAreCopied) {
  EXPECT_EQ(expand_template("a%zb", {}), "a%zb");
  EXPECT_EQ(expand_template("end%", {}), "end%");
}

TEST(TopicTemplate, CheckRejectsUnknownPlaceholders) {
  EXPECT_FALSE(check_template("bench/%i/%c/%u/%%"));
  auto error = check_template("bench/%x");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("%x"), std::string::npos);
  EXPECT_TRUE(check_template("bench/%"));
}

TEST(TopicTemplate, PerClientOnlyWithIndexOrId) {
  EXPECT_TRUE(is_per_client("a/%i"));
  EXPECT_TRUE(is_per_client("%c"));
  EXPECT_FALSE(is_per_client("a/%u"));
  EXPECT_FALSE(is_per_client("a/%%i"));
  EXPECT_FALSE(is_per_client("a/b"));
}

TEST(TopicTemplate, WildcardReplacesPerClientLevels) {
  EXPECT_EQ(wildcard_of("bench/%i"), "bench/+");
  EXPECT_EQ(wildcard_of("bench/%i/data/%c"), "bench/+/data/+");
  EXPECT_EQ(wildcard_of("dev-%i/x"), "+/x");
  EXPECT_EQ(wildcard_of("bench/x"), "bench/x");
  EXPECT_EQ(wildcard_of("/lead/%i/"), "/lead/+/");
}

}  // namespace
}  // namespace cicada::bench
