// The password file against hashes written by the real mosquitto_passwd
// (tests/data/auth/README.md says how they were made), and every malformed line.
#include "broker/auth/password_file.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "broker/auth/password_hash.hpp"

namespace cicada::broker::auth {
namespace {

const std::string kData = CICADA_TEST_DATA_DIR "/auth/";

PasswordFile load(const std::string& name) {
  auto file = PasswordFile::load(kData + name);
  EXPECT_TRUE(file) << (file ? "" : file.error());
  return file ? std::move(*file) : PasswordFile{};
}

std::optional<std::string> pw(const char* text) {
  return std::string(text);
}

TEST(PasswordFile, AcceptsMosquittoPasswdPbkdf2) {
  const PasswordFile file = load("mosquitto_passwd.txt");
  EXPECT_EQ(file.size(), 5u);
  EXPECT_EQ(file.authenticate("alice", pw("alice-secret")), Verdict::allow);
  EXPECT_EQ(file.authenticate("bob smith", pw("p@ss:word with spaces")), Verdict::allow);
  EXPECT_EQ(file.authenticate("dave", pw("")), Verdict::allow);
  EXPECT_EQ(file.authenticate("émile", pw("naïve-ünïcode")), Verdict::allow);
}

TEST(PasswordFile, AcceptsMosquittoPasswdSha512) {
  EXPECT_EQ(load("mosquitto_passwd.txt").authenticate("carol", pw("carol-secret")), Verdict::allow);
}

TEST(PasswordFile, AcceptsGlibcSha512Crypt) {
  const PasswordFile file = load("crypt_sha512.txt");
  EXPECT_EQ(file.authenticate("erin", pw("erin-secret")), Verdict::allow);
  EXPECT_EQ(file.authenticate("frank", pw("frank-secret")), Verdict::allow);
  EXPECT_EQ(file.authenticate("erin", pw("erin-secreT")), Verdict::deny);
  EXPECT_EQ(file.authenticate("frank", pw("")), Verdict::deny);
}

TEST(PasswordFile, AcceptsArgon2id) {
  // The PHC string mosquitto 2.1 writes by default (made here with Debian's argon2 tool).
  const PasswordFile file = load("argon2id.txt");
  EXPECT_EQ(file.authenticate("grace", pw("grace-secret")), Verdict::allow);
  EXPECT_EQ(file.authenticate("heidi", pw("heidi secret")), Verdict::allow);
  EXPECT_EQ(file.authenticate("grace", pw("grace-secreT")), Verdict::deny);
  EXPECT_EQ(file.authenticate("heidi", pw("")), Verdict::deny);
  EXPECT_EQ(file.authenticate("heidi", std::nullopt), Verdict::deny);
}

TEST(PasswordFile, WrongOrMissingPasswordOfAKnownUserIsDenied) {
  const PasswordFile file = load("mosquitto_passwd.txt");
  EXPECT_EQ(file.authenticate("alice", pw("alice-secreT")), Verdict::deny);
  EXPECT_EQ(file.authenticate("alice", pw("")), Verdict::deny);
  EXPECT_EQ(file.authenticate("alice", std::nullopt), Verdict::deny);
  EXPECT_EQ(file.authenticate("carol", pw("alice-secret")), Verdict::deny);
  EXPECT_EQ(file.authenticate("dave", pw(" ")), Verdict::deny);
  // The password is not truncated, nor compared as a prefix.
  EXPECT_EQ(file.authenticate("alice", pw("alice-secret ")), Verdict::deny);
  EXPECT_EQ(file.authenticate("alice", pw("alice-secre")), Verdict::deny);
}

TEST(PasswordFile, UnknownUserIsIgnored) {
  const PasswordFile file = load("mosquitto_passwd.txt");
  EXPECT_EQ(file.authenticate("mallory", pw("alice-secret")), Verdict::ignore);
  EXPECT_EQ(file.authenticate("Alice", pw("alice-secret")), Verdict::ignore);
  EXPECT_EQ(file.authenticate("", pw("")), Verdict::ignore);
}

TEST(PasswordFile, CommentsBlankLinesAndCrlfAreAccepted) {
  const std::string hash = make_pbkdf2_hash("secret");
  auto file = PasswordFile::parse("# users\n\n   \nzed:" + hash + "\r\n", "passwd");
  ASSERT_TRUE(file) << file.error();
  EXPECT_EQ(file->authenticate("zed", pw("secret")), Verdict::allow);
}

TEST(PasswordFile, MadeHashesVerifyAndAreSalted) {
  const std::string a = make_pbkdf2_hash("same");
  const std::string b = make_pbkdf2_hash("same");
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("$7$101$"));
  auto parsed = parse_password_hash(a);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->salt.size(), 12u);
  EXPECT_TRUE(verify_password(*parsed, "same"));
  EXPECT_FALSE(verify_password(*parsed, "Same"));
}

TEST(PasswordFile, Base64RoundTrips) {
  for (std::size_t size = 0; size < 70; ++size) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<std::uint8_t>(i * 37 + 11);
    const std::string text = base64_encode(bytes);
    if (size == 0) continue;  // empty text is refused: salts and hashes are never empty
    auto back = base64_decode(text);
    ASSERT_TRUE(back) << size;
    EXPECT_EQ(*back, bytes) << size;
  }
}

// Each malformed line stops loading with the file name and line number, and never
// quotes the hash.
struct BadLine {
  const char* line;
  const char* expected;  // a fragment of the error
};
// The line itself names the case (ctest shows it), rather than the pointers' bytes.
void PrintTo(const BadLine& bad, std::ostream* out) {
  *out << '"' << bad.line << '"';
}

class PasswordFileBadLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(PasswordFileBadLine, IsRefusedWithFileAndLine) {
  const std::string good = "ok:" + make_pbkdf2_hash("x") + "\n";
  auto file = PasswordFile::parse("# comment\n" + good + GetParam().line + "\n", "pw.txt");
  ASSERT_FALSE(file) << GetParam().line;
  EXPECT_TRUE(file.error().starts_with("pw.txt:3: ")) << file.error();
  EXPECT_NE(file.error().find(GetParam().expected), std::string::npos) << file.error();
}

const std::string kSalt = "ZgKvZbYFBHnEOZ2T";
const std::string kHash =
    "pvwCvST9I6NoK/lQJdqEh080uo7R/wimAuqER2mTlcgHOZGNbQ2kyY65aksmiUgqHA66iNmoafvpHld4u+lpfQ==";

INSTANTIATE_TEST_SUITE_P(
    Malformed, PasswordFileBadLine,
    ::testing::Values(
        BadLine{"no-colon-here", "expected username:hash"},
        BadLine{":$7$101$ZgKvZbYFBHnEOZ2T$abc", "empty user name"},
        BadLine{"plain:secret", "plain-text password"}, BadLine{"empty:", "plain-text password"},
        BadLine{"x:$5$abc$def", "unsupported hash type $5$"},
        BadLine{"x:$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "unsupported hash type"},
        BadLine{"x:$argon2id$v=16$m=65536,t=3,p=4$c2FsdA$aGFzaA", "expected $argon2id$v=19"},
        BadLine{"x:$argon2id$v=19$m=65536,t=3$c2FsdA$aGFzaA", "argon2id costs"},
        BadLine{"x:$argon2id$v=19$m=4194304,t=1,p=1$c2FsdA$aGFzaA", "argon2id costs"},
        BadLine{"x:$argon2id$v=19$m=4096,t=0,p=1$c2FsdA$aGFzaA", "argon2id costs"},
        BadLine{"x:$argon2id$v=19$m=4096,t=1,p=1,x=2$c2FsdA$aGFzaA", "argon2id costs"},
        BadLine{"x:$argon2id$v=19$m=4096,t=1,p=1$$aGFzaA", "salt and hash"},
        BadLine{"x:$7$101$ZgKvZbYFBHnEOZ2T", "expected $7$ITERATIONS$SALT$HASH"},
        BadLine{"x:$7$0$ZgKvZbYFBHnEOZ2T$abcd", "iteration count"},
        BadLine{"x:$7$abc$ZgKvZbYFBHnEOZ2T$abcd", "iteration count"},
        BadLine{"x:$7$99999999999$ZgKvZbYFBHnEOZ2T$abcd", "iteration count"},
        BadLine{"x:$7$101$Zg!vZbYFBHnEOZ2T$abcd", "salt"},
        BadLine{"x:$7$101$ZgKvZbYFBHnEOZ2T$abcd", "hash: expected base64 of 64 bytes"},
        BadLine{"x:$6$ZgKvZbYFBHnEOZ2T$abcd", "expected $6$SALT$HASH"},
        BadLine{"x:$6$$pvwCvST9I6NoK/lQJdqEh080uo7R/"
                "wimAuqER2mTlcgHOZGNbQ2kyY65aksmiUgqHA66iNmoafvpHld4u+lpfQ==",
                "salt"},
        BadLine{"ok:$7$101$ZgKvZbYFBHnEOZ2T$pvwCvST9I6NoK/lQJdqEh080uo7R/"
                "wimAuqER2mTlcgHOZGNbQ2kyY65aksmiUgqHA66iNmoafvpHld4u+lpfQ==",
                "appears twice"}));

TEST(PasswordFile, MissingFileIsAnError) {
  auto file = PasswordFile::load(kData + "no-such-file");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().find("no-such-file: cannot read"), std::string::npos) << file.error();
  auto dir = PasswordFile::load(kData);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().find("is a directory"), std::string::npos) << dir.error();
}

}  // namespace
}  // namespace cicada::broker::auth
