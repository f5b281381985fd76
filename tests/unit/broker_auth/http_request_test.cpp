// HTTP authentication/authorization formats: URL and header parsing, placeholder substitution
// with JSON and form escaping, and reading the service's answer (EMQX's rules).
#include "broker/auth/http_request.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "broker/auth/from_config.hpp"

namespace cicada::broker::auth {
namespace {

namespace json = boost::json;
using codec::ReasonCode;

TEST(HttpUrl, HostPortAndTarget) {
  auto url = parse_http_url("http://127.0.0.1:8080/mqtt/auth?x=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/mqtt/auth?x=1");

  url = parse_http_url("http://auth.example");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "auth.example");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");

  url = parse_http_url("http://[::1]:9000/a");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);

  url = parse_http_url("https://auth.example/check");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/check");
  url = parse_http_url("https://auth.example:8443");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 8443);
  EXPECT_FALSE(parse_http_url("http://x/")->tls);
}

TEST(HttpUrl, Refused) {
  EXPECT_FALSE(parse_http_url("ftp://example/"));
  EXPECT_FALSE(parse_http_url("http://:80/"));
  EXPECT_FALSE(parse_http_url("http://host:0/"));
  EXPECT_FALSE(parse_http_url("http://host:70000/"));
  EXPECT_FALSE(parse_http_url("http://host:x/"));
  EXPECT_FALSE(parse_http_url("http://user:pw@host/"));
}

TEST(HttpHeaders, OnePerLine) {
  auto headers = parse_http_headers("X-Api-Key: secret\n\n  Accept:  */*  \r\n");
  ASSERT_TRUE(headers);
  ASSERT_EQ(headers->size(), 2u);
  EXPECT_EQ((*headers)[0].name, "X-Api-Key");
  EXPECT_EQ((*headers)[0].value, "secret");
  EXPECT_EQ((*headers)[1].name, "Accept");
  EXPECT_EQ((*headers)[1].value, "*/*");
  EXPECT_FALSE(parse_http_headers("no colon"));
  EXPECT_FALSE(parse_http_headers(": value"));
}

TEST(Substitute, KnownPlaceholdersOnly) {
  const Placeholders values{{"clientid", "c1"}, {"username", ""}};
  EXPECT_EQ(substitute("${clientid}/${username}/${other}/${", values), "c1//${other}/${");
  EXPECT_EQ(substitute("no placeholders", values), "no placeholders");
  EXPECT_EQ(substitute("${clientid}${clientid}", values), "c1c1");
}

TEST(FormEscape, ReservedAndNonAscii) {
  EXPECT_EQ(form_escape("a b&c=d+e/é"), "a%20b%26c%3Dd%2Be%2F%C3%A9");
  EXPECT_EQ(form_escape("Az09-_.~"), "Az09-_.~");
}

TEST(RequestTemplate, JsonBodyEscapesSubstitutedValues) {
  auto request = RequestTemplate::make(
      "http://127.0.0.1:1/auth", "post",
      R"({"u": "${username}", "p": "${password}", "fixed": 1, "nested": ["${clientid}"]})", "");
  ASSERT_TRUE(request) << request.error();
  const std::string nasty = "q\"uote\\back\nline\x01 é";
  const auto parts =
      request->render({{"username", nasty}, {"password", "pw"}, {"clientid", "c\"1"}});
  EXPECT_EQ(parts.method, HttpMethod::post);
  EXPECT_EQ(parts.target, "/auth");
  // The body parses back to exactly the substituted values.
  const json::value body = json::parse(parts.body);
  EXPECT_EQ(body.at("u").as_string(), nasty);
  EXPECT_EQ(body.at("p").as_string(), "pw");
  EXPECT_EQ(body.at("fixed").as_int64(), 1);
  EXPECT_EQ(body.at("nested").at(0).as_string(), "c\"1");
  ASSERT_EQ(parts.headers.size(), 1u);
  EXPECT_EQ(parts.headers[0].name, "Content-Type");
  EXPECT_EQ(parts.headers[0].value, "application/json");
}

TEST(RequestTemplate, FormBodyWhenContentTypeSaysSo) {
  auto request =
      RequestTemplate::make("http://h/auth", "post", R"({"username": "${username}", "n": 5})",
                            "Content-Type: application/x-www-form-urlencoded");
  ASSERT_TRUE(request) << request.error();
  const auto parts = request->render({{"username", "a b&c"}});
  EXPECT_EQ(parts.body, "username=a%20b%26c&n=5");
  ASSERT_EQ(parts.headers.size(), 1u);
}

TEST(RequestTemplate, GetSendsTheBodyAsQueryAndEscapesUrlPlaceholders) {
  auto request = RequestTemplate::make("http://h/acl/${clientid}?v=1", "get",
                                       R"({"topic": "${topic}", "action": "${action}"})", "");
  ASSERT_TRUE(request) << request.error();
  const auto parts =
      request->render({{"clientid", "a/b"}, {"topic", "t/#"}, {"action", "publish"}});
  EXPECT_EQ(parts.method, HttpMethod::get);
  EXPECT_EQ(parts.target, "/acl/a%2Fb?v=1&topic=t%2F%23&action=publish");
  EXPECT_TRUE(parts.body.empty());
  EXPECT_TRUE(parts.headers.empty());
}

TEST(RequestTemplate, BadSettingsNamed) {
  auto bad = RequestTemplate::make("http://h/", "put", "{}", "");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().starts_with("method:"));
  bad = RequestTemplate::make("http://h/", "post", "[1]", "");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().starts_with("body:"));
  bad = RequestTemplate::make("http://h/", "post", "{", "");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().starts_with("body:"));
  bad = RequestTemplate::make("gopher://h/", "post", "{}", "");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().starts_with("url:"));
  bad = RequestTemplate::make("http://h/", "post", "{}", "bad header");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().starts_with("headers:"));
}

TEST(HttpAnswer, EmqxRules) {
  auto answer = parse_http_answer(200, R"({"result": "allow", "is_superuser": true})");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->verdict, Verdict::allow);
  EXPECT_TRUE(answer->superuser);

  answer = parse_http_answer(200, R"({"result": "deny", "is_superuser": true})");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->verdict, Verdict::deny);
  EXPECT_FALSE(answer->superuser);
  EXPECT_EQ(answer->deny_reason, ReasonCode::not_authorized);

  answer = parse_http_answer(200, R"({"result": "ignore"})");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->verdict, Verdict::ignore);

  // A missing or unknown result is ignore.
  EXPECT_EQ(parse_http_answer(200, "{}")->verdict, Verdict::ignore);
  EXPECT_EQ(parse_http_answer(200, R"({"result": "yes"})")->verdict, Verdict::ignore);
  EXPECT_FALSE(parse_http_answer(200, R"({"result": "allow"})")->superuser);
  EXPECT_TRUE(parse_http_answer(200, R"({"result":"allow","is_superuser":"true"})")->superuser);

  answer = parse_http_answer(204, "");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->verdict, Verdict::allow);
}

TEST(HttpAnswer, FailuresAreNullopt) {
  EXPECT_FALSE(parse_http_answer(0, ""));
  EXPECT_FALSE(parse_http_answer(403, R"({"result": "allow"})"));
  EXPECT_FALSE(parse_http_answer(500, ""));
  EXPECT_FALSE(parse_http_answer(200, "allow"));
  EXPECT_FALSE(parse_http_answer(200, "[]"));
  EXPECT_FALSE(parse_http_answer(200, ""));
}

TEST(HttpFromConfig, BadUrlNamesTheKey) {
  Config config;
  config.authentication.push_back(
      AuthenticatorConfig{.backend = AuthBackend::http,
                          .origin = {.where = "cicada.toml:7", .key = "authentication[1]"},
                          .url = "ftp://example/auth"});
  try {
    (void)chain_from_config(config);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(
        std::string(error.what()).find("cicada.toml:7: authentication[1].url: expected http://"),
        std::string::npos)
        << error.what();
  }
  config = Config{};
  config.authorization_sources.push_back(AuthorizationSourceConfig{
      .type = AuthzType::http, .name = "acl", .url = "http://h/", .body = "not json"});
  try {
    (void)chain_from_config(config);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("acl.body: "), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace cicada::broker::auth
