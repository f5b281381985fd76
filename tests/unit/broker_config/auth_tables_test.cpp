// [[authentication]] and [[authorization.sources]] tables, the single-step sections they
// replace, and listeners' authenticators lists.
#include <gtest/gtest.h>

#include <string>

#include "broker/config/config.hpp"
#include "broker/config/options.hpp"
#include "unit/broker_config/test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::load_error;
using testing_support::with_file;
using testing_support::write_file;

Config load(const std::string& toml, const testing_support::Environment& environment = {}) {
  return load_config(with_file(write_file(toml)), environment);
}
std::string error_of(const std::string& toml) {
  return load_error(with_file(write_file(toml)));
}

// The issue's example, as an EMQX user writes it: tables in chain order, body as a table.
constexpr const char* kChain = R"([listeners.tcp.default]
bind = "127.0.0.1:0"
allow_anonymous = false
authenticators = ["corp", "passwd"]

[listeners.tcp.internal]
bind = "127.0.0.1:0"

[[authentication]]
backend = "http"
name = "corp"
method = "post"
url = "http://127.0.0.1:8080/auth"
body = { clientid = "${clientid}", username = "${username}", password = "${password}" }
headers = { "X-Api-Key" = "k" }
request_timeout = "2s"
on_error = "deny"

[[authentication]]
mechanism = "password_based"
backend = "password_file"
name = "passwd"
path = "passwd"
superusers = "root"

[[authentication]]
mechanism = "jwt"
algorithm = "hmac-based"
secret = "s3cret"
enable = false

[authorization]
no_match = "deny"

[[authorization.sources]]
type = "file"
path = "acl"

[[authorization.sources]]
type = "http"
url = "http://127.0.0.1:8080/authz"
body = { clientid = "${clientid}", topic = "${topic}", action = "${action}" }
)";

TEST(AuthTables, ReadInOrderWithTheirBackendsAndNames) {
  const Config c = load(kChain);
  ASSERT_EQ(c.authentication.size(), 3u);
  const AuthenticatorConfig& corp = c.authentication[0];
  EXPECT_EQ(corp.backend, AuthBackend::http);
  EXPECT_EQ(corp.name, "corp");
  EXPECT_EQ(corp.body,
            R"({"clientid":"${clientid}","username":"${username}","password":"${password}"})");
  EXPECT_EQ(corp.headers, "X-Api-Key: k\n");
  EXPECT_EQ(corp.request_timeout_ms, 2000u);
  EXPECT_TRUE(corp.on_error_deny);
  EXPECT_EQ(corp.pool_size, 8u);  // the default
  EXPECT_EQ(c.authentication[1].backend, AuthBackend::password_file);
  EXPECT_EQ(c.authentication[1].superusers, "root");
  const AuthenticatorConfig& jwt = c.authentication[2];
  EXPECT_EQ(jwt.backend, AuthBackend::jwt);  // mechanism = "jwt" needs no backend
  EXPECT_EQ(jwt.name, "jwt");                // the backend's name by default
  EXPECT_FALSE(jwt.enable);

  ASSERT_EQ(c.authorization_sources.size(), 2u);
  EXPECT_EQ(c.authorization_sources[0].type, AuthzType::file);
  EXPECT_EQ(c.authorization_sources[0].name, "file");
  EXPECT_EQ(c.authorization_sources[1].type, AuthzType::http);
  EXPECT_EQ(c.authorization_sources[1].body,
            R"({"clientid":"${clientid}","topic":"${topic}","action":"${action}"})");
  EXPECT_FALSE(c.authorization_no_match_allow);

  ASSERT_EQ(c.tcp_listeners.size(), 2u);
  EXPECT_EQ(c.tcp_listeners[0].name, "default");
  EXPECT_EQ(c.tcp_listeners[0].authenticators, (std::vector<std::string>{"corp", "passwd"}));
  EXPECT_TRUE(c.tcp_listeners[1].authenticators.empty());
}

TEST(AuthTables, EmqxInlineArrayFormAndEscapedBody) {
  const Config c = load(R"(authentication = [
  { mechanism = "password_based", backend = "http", url = "http://h/a", body = { note = "quote \" and \\ and tab	" } },
])");
  ASSERT_EQ(c.authentication.size(), 1u);
  EXPECT_EQ(c.authentication[0].body, R"({"note":"quote \" and \\ and tab\u0009"})");
}

TEST(AuthTables, SectionsBecomeStepsInTheirFixedOrder) {
  const Config c = load(R"(
[auth.http]
url = "http://h/a"
[auth.password_file]
path = "passwd"
[auth.jwt]
algorithm = "hmac-based"
secret = "s"
[authorization.http]
url = "http://h/z"
[authorization.acl_file]
path = "acl"
)");
  ASSERT_EQ(c.authentication.size(), 3u);
  EXPECT_EQ(c.authentication[0].name, "password_file");
  EXPECT_EQ(c.authentication[1].name, "jwt");
  EXPECT_EQ(c.authentication[2].name, "http");
  ASSERT_EQ(c.authorization_sources.size(), 2u);
  EXPECT_EQ(c.authorization_sources[0].type, AuthzType::file);
  EXPECT_EQ(c.authorization_sources[1].type, AuthzType::http);
}

TEST(AuthTables, SectionsFromTheEnvironmentAndAnEmptyRequiredKeyTurnsOneOff) {
  const Config c =
      load("[auth.http]\nurl = \"http://h/a\"\n",
           {{"CICADA_AUTH__HTTP__URL", ""}, {"CICADA_AUTHORIZATION__ACL_FILE__PATH", "acl"}});
  EXPECT_TRUE(c.authentication.empty());
  ASSERT_EQ(c.authorization_sources.size(), 1u);
  EXPECT_EQ(c.authorization_sources[0].path, "acl");
  // Unknown names are only an error when authenticators exist to check them against...
  EXPECT_NE(load_error({}, {{"CICADA_LISTENERS__TCP__DEFAULT__AUTHENTICATORS", "a-1, b"}})
                .find("environment variable CICADA_LISTENERS__TCP__DEFAULT__AUTHENTICATORS: "
                      "listeners.tcp.default.authenticators: no authenticator is named \"a-1\"; "
                      "none is configured"),
            std::string::npos);
  // ...and a name is checked for its letters wherever it is written.
  EXPECT_NE(load_error({}, {{"CICADA_LISTENERS__TCP__DEFAULT__AUTHENTICATORS", "Corp"}})
                .find("expected names of lower-case letters, digits, '_' and '-', got \"Corp\""),
            std::string::npos);
}

TEST(AuthTables, PrintedConfigurationReadsBack) {
  const Config c = load(kChain);
  const std::string printed = print_config(c);
  EXPECT_NE(printed.find("authenticators = [\"corp\", \"passwd\"]\n"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("\n[[authentication]]\nbackend = \"http\"\nname = \"corp\"\n"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("\n[[authorization.sources]]\ntype = \"file\"\nname = \"file\"\n"),
            std::string::npos)
      << printed;
  EXPECT_EQ(load(printed), c);
}

struct BadChain {
  const char* name;
  const char* toml;
  const char* error;  // a part of the message
};

class AuthTablesRefused : public ::testing::TestWithParam<BadChain> {};

TEST_P(AuthTablesRefused, WithFileLineAndKey) {
  const std::string error = error_of(GetParam().toml);
  EXPECT_NE(error.find(GetParam().error), std::string::npos) << error;
  EXPECT_NE(error.find(".toml:"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Config, AuthTablesRefused,
    ::testing::Values(
        BadChain{"no_backend", "[[authentication]]\npath = \"p\"\n",
                 ":1: authentication[1].backend: required: one of password_file, jwt or http"},
        BadChain{"unknown_backend", "[[authentication]]\nbackend = \"ldap\"\n",
                 "authentication[1].backend: expected one of password_file, jwt or http, got "
                 "\"ldap\""},
        BadChain{"mechanism_mismatch",
                 "[[authentication]]\nmechanism = \"jwt\"\nbackend = \"http\"\nurl = \"u\"\n",
                 "authentication[1].mechanism: a http authenticator is mechanism "
                 "\"password_based\", got \"jwt\""},
        BadChain{"key_of_another_backend",
                 "[[authentication]]\nbackend = \"password_file\"\npath = \"p\"\n\n"
                 "[[authentication]]\nbackend = \"http\"\nurl = \"u\"\npath = \"p\"\n",
                 ":8: authentication[2].path: unknown key of a http step; its keys are url, "
                 "method,"},
        BadChain{"required_key", "\n[[authentication]]\nbackend = \"http\"\n",
                 ":2: authentication[1].url: required"},
        BadChain{"bad_value",
                 "[[authentication]]\nbackend = \"http\"\nurl = \"u\"\n"
                 "on_error = \"panic\"\n",
                 ":4: authentication[1].on_error: expected one of ignore or deny"},
        BadChain{"same_name",
                 "[[authentication]]\nbackend = \"http\"\nurl = \"a\"\n"
                 "[[authentication]]\nbackend = \"http\"\nurl = \"b\"\n",
                 ":4: authentication[2].name: \"http\" is also the name of authentication[1]"},
        BadChain{"bad_name",
                 "[[authentication]]\nbackend = \"http\"\nurl = \"a\"\nname = \"Corp X\"\n",
                 "authentication[1].name: expected a name of lower-case letters"},
        BadChain{"mixed_forms",
                 "[auth.http]\nurl = \"a\"\n[[authentication]]\nbackend = \"jwt\"\n"
                 "algorithm = \"hmac-based\"\n",
                 ":2: auth.http: [auth.http] cannot be used with [[authentication]] tables"},
        BadChain{"a_table_not_tables", "[authentication]\nbackend = \"http\"\n",
                 "authentication: expected [[authentication]] tables, one per step"},
        BadChain{"source_type", "[[authorization.sources]]\ntype = \"mnesia\"\n",
                 "authorization.sources[1].type: expected one of file or http, got \"mnesia\""},
        BadChain{"source_required", "[[authorization.sources]]\ntype = \"file\"\n",
                 "authorization.sources[1].path: required"},
        BadChain{"unknown_listener_authenticator",
                 "[listeners.tcp.default]\nauthenticators = [\"corp\"]\n"
                 "[[authentication]]\nbackend = \"password_file\"\npath = \"p\"\n",
                 ":2: listeners.tcp.default.authenticators: no authenticator is named \"corp\"; "
                 "the authenticators are password_file"},
        BadChain{"authenticators_not_a_list", "[listeners.tcp.default]\nauthenticators = \"a\"\n",
                 "expected an array of names, as [\"a\", \"b\"], got \"a\""},
        BadChain{"superusers_without_path", "[auth.password_file]\nsuperusers = \"root\"\n",
                 "auth.password_file.superusers: superusers are users of a password file"},
        BadChain{"unknown_section_key", "[auth.http]\nurl = \"a\"\ntimeout = \"1s\"\n",
                 ":3: auth.http.timeout: unknown key"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(AuthTables, RowsAreComplete) {
  auto check = [](const auto& rows) {
    for (const auto& o : rows) {
      EXPECT_FALSE(o.description.empty()) << o.key;
      EXPECT_TRUE(o.description.ends_with('.')) << o.key;
      EXPECT_NE(o.set, nullptr) << o.key;
      EXPECT_NE(o.get, nullptr) << o.key;
    }
  };
  check(config::authenticator_common_options());
  check(config::authorization_source_common_options());
  for (const AuthBackend b : {AuthBackend::password_file, AuthBackend::jwt, AuthBackend::http})
    check(config::authenticator_options(b));
  for (const AuthzType t : {AuthzType::file, AuthzType::http})
    check(config::authorization_source_options(t));
}

// The rows' defaults and the member initialisers of the two entry types agree, as they do
// for Config (defaults_test.cpp): a table written with its required key alone is a
// default entry with that key.
TEST(AuthTables, RowDefaultsAgreeWithMemberInitialisers) {
  const Config c = load(R"(
[[authentication]]
backend = "password_file"
path = "p"
[[authentication]]
backend = "jwt"
algorithm = "hmac-based"
[[authentication]]
backend = "http"
url = "u"
[[authorization.sources]]
type = "file"
path = "p"
[[authorization.sources]]
type = "http"
url = "u"
)");
  ASSERT_EQ(c.authentication.size(), 3u);
  EXPECT_EQ(c.authentication[0], (AuthenticatorConfig{.name = "password_file", .path = "p"}));
  EXPECT_EQ(
      c.authentication[1],
      (AuthenticatorConfig{.backend = AuthBackend::jwt, .name = "jwt", .algorithm = "hmac-based"}));
  EXPECT_EQ(c.authentication[2],
            (AuthenticatorConfig{.backend = AuthBackend::http, .name = "http", .url = "u"}));
  ASSERT_EQ(c.authorization_sources.size(), 2u);
  EXPECT_EQ(c.authorization_sources[0], (AuthorizationSourceConfig{.name = "file", .path = "p"}));
  EXPECT_EQ(c.authorization_sources[1],
            (AuthorizationSourceConfig{.type = AuthzType::http, .name = "http", .url = "u"}));
}

}  // namespace
}  // namespace cicada::broker
