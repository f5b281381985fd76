// The ACL file: Mosquitto's syntax and the answers allow / deny / ignore.
#include "broker/auth/acl_file.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace cicada::broker::auth {
namespace {

AclFile parse(const std::string& text) {
  auto file = AclFile::parse(text, "acl");
  EXPECT_TRUE(file) << (file ? "" : file.error());
  return file ? std::move(*file) : AclFile{};
}

AccessRequest pub(std::string topic, std::optional<std::string> user = std::nullopt,
                  std::string client = "c1") {
  return AccessRequest{.client_id = std::move(client),
                       .username = std::move(user),
                       .topic = std::move(topic),
                       .action = Action::publish,
                       .qos = 0,
                       .retain = false};
}

AccessRequest sub(std::string filter, std::optional<std::string> user = std::nullopt,
                  std::string client = "c1") {
  AccessRequest r = pub(std::move(filter), std::move(user), std::move(client));
  r.action = Action::subscribe;
  return r;
}

const char* kAcl = R"(# anonymous clients
topic read public/#
topic readwrite open/+

user alice
topic readwrite alice/#
topic deny alice/secret/#
topic write sensors/+/temp
topic read  status with spaces/#

user bob
topic bob/#

pattern readwrite devices/%c/#
pattern read users/%u/inbox
pattern deny %c/private
)";

TEST(AclFile, AnonymousLinesApplyOnlyToClientsWithoutAUserName) {
  const AclFile acl = parse(kAcl);
  EXPECT_EQ(acl.check(sub("public/news")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("public/#")), Verdict::allow);
  EXPECT_EQ(acl.check(pub("public/news")), Verdict::ignore);  // read only
  EXPECT_EQ(acl.check(pub("open/x")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("public/news", "alice")), Verdict::ignore);
  EXPECT_EQ(acl.check(sub("public/news", "unknown")), Verdict::ignore);
}

TEST(AclFile, UserLinesReadWriteReadwrite) {
  const AclFile acl = parse(kAcl);
  EXPECT_EQ(acl.check(pub("alice/a/b", "alice")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("alice/public/+", "alice")), Verdict::allow);
  EXPECT_EQ(acl.check(pub("sensors/k/temp", "alice")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("sensors/k/temp", "alice")), Verdict::ignore);  // write only
  EXPECT_EQ(acl.check(sub("status with spaces/x", "alice")), Verdict::allow);
  EXPECT_EQ(acl.check(pub("bob/x", "alice")), Verdict::ignore);
  // No access word: readwrite.
  EXPECT_EQ(acl.check(pub("bob/x", "bob")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("bob/#", "bob")), Verdict::allow);
}

TEST(AclFile, DenyLinesWinOverBroaderGrants) {
  const AclFile acl = parse(kAcl);
  EXPECT_EQ(acl.check(pub("alice/secret/x", "alice")), Verdict::deny);
  EXPECT_EQ(acl.check(sub("alice/secret/x", "alice")), Verdict::deny);
  // A wider filter that could receive denied topics is denied too.
  EXPECT_EQ(acl.check(sub("alice/#", "alice")), Verdict::deny);
  EXPECT_EQ(acl.check(sub("alice/+/x", "alice")), Verdict::deny);
  EXPECT_EQ(acl.check(sub("alice/public/x", "alice")), Verdict::allow);
}

TEST(AclFile, SubscriptionMustBeCoveredByAGrant) {
  const AclFile acl = parse(kAcl);
  // "#" could receive c1/private, which a deny pattern forbids.
  EXPECT_EQ(acl.check(sub("#")), Verdict::deny);
  EXPECT_EQ(acl.check(sub("#", std::nullopt, "c2")), Verdict::deny);
  EXPECT_EQ(acl.check(sub("public/+/x")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("+/news")), Verdict::ignore);
  EXPECT_EQ(acl.check(sub("open/+")), Verdict::allow);  // readwrite open/+ covers itself
  EXPECT_EQ(acl.check(sub("open/#")), Verdict::ignore);
  EXPECT_EQ(acl.check(sub("$share/g/public/news")), Verdict::allow);
}

TEST(AclFile, PatternsSubstituteClientIdAndUserName) {
  const AclFile acl = parse(kAcl);
  EXPECT_EQ(acl.check(pub("devices/c1/state")), Verdict::allow);
  EXPECT_EQ(acl.check(pub("devices/c2/state")), Verdict::ignore);
  EXPECT_EQ(acl.check(pub("devices/c2/state", "alice", "c2")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("users/bob/inbox", "bob")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("users/bob/inbox", "alice")), Verdict::ignore);
  // %u does not apply without a user name.
  EXPECT_EQ(acl.check(sub("users//inbox")), Verdict::ignore);
  EXPECT_EQ(acl.check(pub("c1/private")), Verdict::deny);
  EXPECT_EQ(acl.check(pub("c1/private", "bob")), Verdict::deny);
}

TEST(AclFile, WildcardsInClientIdOrUserNameCannotWidenAPattern) {
  const AclFile acl = parse(kAcl);
  EXPECT_EQ(acl.check(pub("devices/x/state", std::nullopt, "#")), Verdict::deny);
  EXPECT_EQ(acl.check(sub("users/a/inbox", "+")), Verdict::deny);
}

TEST(AclFile, DollarTopicsNeedLinesStartingWithDollar) {
  const AclFile acl = parse("topic read #\ntopic read $SYS/broker/#\n");
  EXPECT_EQ(acl.check(sub("a/b")), Verdict::allow);
  EXPECT_EQ(acl.check(sub("$SYS/x")), Verdict::ignore);
  EXPECT_EQ(acl.check(sub("$SYS/broker/load")), Verdict::allow);
  const AclFile deny_all = parse("topic readwrite #\ntopic deny #\n");
  EXPECT_EQ(deny_all.check(sub("$SYS/x")), Verdict::ignore);
}

TEST(AclFile, EmptyFileMatchesNothing) {
  const AclFile acl = parse("# nothing\n\n");
  EXPECT_EQ(acl.rule_count(), 0u);
  EXPECT_EQ(acl.check(pub("a")), Verdict::ignore);
}

TEST(AclFile, FilterGeometry) {
  EXPECT_TRUE(filters_intersect("a/#", "a"));
  EXPECT_TRUE(filters_intersect("a/+/c", "a/b/+"));
  EXPECT_TRUE(filters_intersect("+/+", "a/b"));
  EXPECT_FALSE(filters_intersect("a/+", "a/b/c"));
  EXPECT_FALSE(filters_intersect("a/b", "a/c"));
  EXPECT_FALSE(filters_intersect("#", "$SYS/x"));
  EXPECT_TRUE(filter_covers("a/#", "a"));
  EXPECT_TRUE(filter_covers("a/#", "a/+/c"));
  EXPECT_TRUE(filter_covers("a/+", "a/+"));
  EXPECT_FALSE(filter_covers("a/b", "a/+"));
  EXPECT_FALSE(filter_covers("a/+", "a/#"));
  EXPECT_FALSE(filter_covers("a/+", "a"));
  EXPECT_FALSE(filter_covers("a", "a/b"));
}

struct BadLine {
  const char* line;
  const char* expected;
};
// The line itself names the case (ctest shows it), rather than the pointers' bytes.
void PrintTo(const BadLine& bad, std::ostream* out) {
  *out << '"' << bad.line << '"';
}

class AclFileBadLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(AclFileBadLine, IsRefusedWithFileAndLine) {
  auto file = AclFile::parse(std::string("topic read ok/#\n") + GetParam().line + "\n", "acl.txt");
  ASSERT_FALSE(file) << GetParam().line;
  EXPECT_TRUE(file.error().starts_with("acl.txt:2: ")) << file.error();
  EXPECT_NE(file.error().find(GetParam().expected), std::string::npos) << file.error();
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, AclFileBadLine,
    ::testing::Values(BadLine{"user", "expected `user NAME`"},
                      BadLine{"user   ", "expected `user NAME`"},
                      BadLine{"topic", "expected `topic [ACCESS] FILTER`"},
                      BadLine{"topic read", "expected a topic filter after read"},
                      BadLine{"pattern deny", "expected a topic filter after deny"},
                      BadLine{"topic readonly a/b", "expected read, write, readwrite or deny"},
                      BadLine{"topic read a/#/b", "invalid topic filter"},
                      BadLine{"topic read a/b+", "invalid topic filter"},
                      BadLine{"pattern write %c/#x", "invalid topic filter"},
                      BadLine{"topic read $share/g/a", "$share/"},
                      BadLine{"topics read a", "expected a line starting with user, topic"},
                      BadLine{"allow all", "expected a line starting with user, topic"}));

TEST(AclFile, MissingFileIsAnError) {
  auto file = AclFile::load("/nonexistent/acl");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().find("/nonexistent/acl: cannot read"), std::string::npos);
}

}  // namespace
}  // namespace cicada::broker::auth
