// Per-client rules from an authentication answer (HTTP `acl`, JWT `acl` claim): EMQX's raw
// rule format and its older {"pub","sub","all"} form, placeholders, "eq ", QoS / retain
// conditions, first match wins, no match passes on; and their place in the chain.
#include "broker/auth/client_rules.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <optional>
#include <string>

#include "broker/auth/chain.hpp"
#include "broker/auth/http_request.hpp"

namespace cicada::broker::auth {
namespace {

namespace json = boost::json;

ClientAuth rules_of(std::string_view text) {
  auto rules = parse_client_rules(json::parse(text));
  EXPECT_TRUE(rules) << text << ": " << rules.error();
  ClientAuth client;
  if (rules) client.rules = std::move(*rules);
  return client;
}

std::string error_of(std::string_view text) {
  auto rules = parse_client_rules(json::parse(text));
  EXPECT_FALSE(rules) << text;
  return rules ? std::string() : rules.error();
}

AccessRequest pub(std::string topic, std::uint8_t qos = 0, bool retain = false,
                  std::optional<std::string> user = "u1") {
  return AccessRequest{.client_id = "c1",
                       .username = std::move(user),
                       .topic = std::move(topic),
                       .action = Action::publish,
                       .qos = qos,
                       .retain = retain};
}

AccessRequest sub(std::string filter, std::uint8_t qos = 0) {
  return AccessRequest{.client_id = "c1",
                       .username = "u1",
                       .topic = std::move(filter),
                       .action = Action::subscribe,
                       .qos = qos};
}

TEST(ClientRules, FirstMatchWinsAndNoMatchIsIgnore) {
  const ClientAuth client = rules_of(R"([
    {"permission": "deny", "action": "publish", "topic": "t/secret"},
    {"permission": "allow", "action": "all", "topic": "t/#"},
    {"permission": "deny", "action": "all", "topic": "#"}])");
  ASSERT_EQ(client.rules.size(), 3U);
  EXPECT_EQ(client.check(pub("t/secret")), Verdict::deny);
  EXPECT_EQ(client.check(pub("t/open")), Verdict::allow);
  EXPECT_EQ(client.check(sub("t/secret")), Verdict::allow);  // the deny is publish only
  EXPECT_EQ(client.check(pub("other")), Verdict::deny);

  const ClientAuth partial =
      rules_of(R"([{"permission": "allow", "action": "pub", "topic": "a"}])");
  EXPECT_EQ(partial.check(pub("a")), Verdict::allow);
  EXPECT_EQ(partial.check(pub("b")), Verdict::ignore);
  EXPECT_EQ(partial.check(sub("a")), Verdict::ignore);  // "pub": publish only
  EXPECT_EQ(ClientAuth{}.check(pub("a")), Verdict::ignore);
}

TEST(ClientRules, SubscribeAllowMustCoverDenyMayTouch) {
  const ClientAuth allow = rules_of(R"([{"permission": "allow", "action": "subscribe",
                                         "topic": "s/+/x"}])");
  EXPECT_EQ(allow.check(sub("s/1/x")), Verdict::allow);
  EXPECT_EQ(allow.check(sub("s/#")), Verdict::ignore);  // wider than the rule
  const ClientAuth deny =
      rules_of(R"([{"permission": "deny", "action": "sub", "topic": "s/1/x"}])");
  EXPECT_EQ(deny.check(sub("s/#")), Verdict::deny);  // would receive s/1/x
  EXPECT_EQ(deny.check(sub("s/2/x")), Verdict::ignore);
}

TEST(ClientRules, PlaceholdersAndEq) {
  const ClientAuth client = rules_of(R"([
    {"permission": "allow", "action": "all", "topic": "c/${clientid}/#"},
    {"permission": "allow", "action": "publish", "topic": "u/${username}"},
    {"permission": "allow", "action": "subscribe", "topic": "eq w/#"}])");
  EXPECT_EQ(client.check(pub("c/c1/x")), Verdict::allow);
  EXPECT_EQ(client.check(pub("c/c2/x")), Verdict::ignore);
  EXPECT_EQ(client.check(pub("u/u1")), Verdict::allow);
  EXPECT_EQ(client.check(pub("u/u1", 0, false, std::nullopt)), Verdict::ignore);
  // "eq ": the literal filter, not what it matches.
  EXPECT_EQ(client.check(sub("w/#")), Verdict::allow);
  EXPECT_EQ(client.check(sub("w/a")), Verdict::ignore);

  // A client id with a wildcard does not widen a rule.
  AccessRequest wild = pub("c/+/x");
  wild.client_id = "+";
  EXPECT_EQ(client.check(wild), Verdict::ignore);
}

TEST(ClientRules, QosAndRetainConditions) {
  const ClientAuth client = rules_of(R"([
    {"permission": "deny", "action": "publish", "topic": "q", "qos": [2]},
    {"permission": "deny", "action": "publish", "topic": "q", "retain": true},
    {"permission": "allow", "action": "publish", "topic": "q", "qos": "0,1", "retain": "all"},
    {"permission": "allow", "action": "all", "topic": "one", "qos": 1}])");
  EXPECT_EQ(client.check(pub("q", 2)), Verdict::deny);
  EXPECT_EQ(client.check(pub("q", 1, true)), Verdict::deny);
  EXPECT_EQ(client.check(pub("q", 1)), Verdict::allow);
  EXPECT_EQ(client.check(pub("one", 1)), Verdict::allow);
  EXPECT_EQ(client.check(pub("one", 0)), Verdict::ignore);
  EXPECT_EQ(client.check(sub("one", 1)), Verdict::allow);
}

TEST(ClientRules, TopicsListIsOneRulePerTopic) {
  const ClientAuth client = rules_of(R"([{"permission": "allow", "action": "all",
                                          "topics": ["a/#", "eq b/+"]}])");
  ASSERT_EQ(client.rules.size(), 2U);
  EXPECT_EQ(client.check(pub("a/1")), Verdict::allow);
  EXPECT_EQ(client.check(sub("b/+")), Verdict::allow);
  EXPECT_EQ(client.check(sub("b/1")), Verdict::ignore);
}

TEST(ClientRules, OldFormIsAWhitelist) {
  const ClientAuth client =
      rules_of(R"({"pub": ["p/%c"], "sub": ["s/#"], "all": ["x/${username}"]})");
  EXPECT_EQ(client.check(pub("p/c1")), Verdict::allow);
  EXPECT_EQ(client.check(sub("s/a")), Verdict::allow);
  EXPECT_EQ(client.check(pub("x/u1")), Verdict::allow);
  EXPECT_EQ(client.check(sub("x/u1")), Verdict::allow);
  // What is not listed is denied, not passed on (EMQX: "always deny when no match").
  EXPECT_EQ(client.check(pub("s/a")), Verdict::deny);
  EXPECT_EQ(client.check(sub("p/c1")), Verdict::deny);
  EXPECT_EQ(client.check(pub("elsewhere")), Verdict::deny);
}

TEST(ClientRules, ExpiredRulesDeny) {
  ClientAuth client = rules_of(R"([{"permission": "allow", "action": "all", "topic": "#"}])");
  client.rules_expire_at = unix_seconds_now() + 3600;
  EXPECT_EQ(client.check(pub("a")), Verdict::allow);
  client.rules_expire_at = unix_seconds_now() - 10;
  EXPECT_EQ(client.check(pub("a")), Verdict::deny);
}

TEST(ClientRules, BadRulesNameWhatIsWrong) {
  EXPECT_NE(error_of(R"("allow")").find("a list of rules"), std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "maybe", "action": "all", "topic": "a"}])")
                .find("acl[0].permission"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "allow", "action": "all", "topic": "a"},
                         {"permission": "allow", "action": "read", "topic": "a"}])")
                .find("acl[1].action"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "allow", "action": "all"}])").find("topic"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "allow", "action": "all", "topic": "a/#/b"}])")
                .find("not a topic filter"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "allow", "action": "all", "topic": "${peerhost}/a"}])")
                .find("placeholder"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "allow", "action": "all", "topic": "a", "qos": [3]}])")
                .find("qos"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "allow", "action": "all", "topic": "a", "qos": "0,x"}])")
                .find("qos"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"permission": "allow", "action": "all", "topic": "a", "retain": "yes"}])")
                .find("retain"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"pub": "a"})").find("acl.pub"), std::string::npos);
  EXPECT_NE(error_of(R"({"write": ["a"]})").find("acl.write"), std::string::npos);
  std::string many = "[";
  for (std::size_t i = 0; i <= max_client_rules; ++i) {
    many += std::string(i ? "," : "") + R"({"permission":"allow","action":"all","topic":"a"})";
  }
  many += "]";
  EXPECT_NE(error_of(many).find("more than"), std::string::npos);
}

TEST(ClientRules, HttpAnswerCarriesRulesAndExpiry) {
  auto answer = parse_http_answer(200, R"({"result": "allow", "expire_at": 4102444800,
               "acl": [{"permission": "deny", "action": "publish", "topic": "no"}]})");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->verdict, Verdict::allow);
  ASSERT_TRUE(answer->client);
  EXPECT_EQ(answer->client->expire_at, 4102444800);
  EXPECT_EQ(answer->client->check(pub("no")), Verdict::deny);

  // Nothing extra: no object kept per client.
  EXPECT_FALSE(parse_http_answer(200, R"({"result": "allow"})")->client);
  // A deny carries nothing.
  EXPECT_FALSE(parse_http_answer(200, R"({"result": "deny", "acl": []})")->client);

  // An allow whose extras are wrong refuses the client, as EMQX (0x86).
  for (const char* body : {R"({"result": "allow", "expire_at": "soon"})",
                           R"({"result": "allow", "acl": [{"permission": "allow"}]})"}) {
    answer = parse_http_answer(200, body);
    ASSERT_TRUE(answer) << body;
    EXPECT_EQ(answer->verdict, Verdict::deny) << body;
    EXPECT_EQ(answer->deny_reason, codec::ReasonCode::bad_user_name_or_password) << body;
  }
}

// A step answering allow with the given extras.
class Granting final : public Authenticator {
 public:
  explicit Granting(std::shared_ptr<const ClientAuth> client) : client_(std::move(client)) {}
  std::string_view name() const noexcept override { return "granting"; }
  void authenticate(const ConnectRequest&, std::function<void(AuthAnswer)> done) const override {
    done(AuthAnswer{.verdict = Verdict::allow, .client = client_});
  }
  Expected<std::shared_ptr<const Authenticator>, std::string> reloaded() const override {
    return std::shared_ptr<const Authenticator>(std::make_shared<Granting>(client_));
  }

 private:
  std::shared_ptr<const ClientAuth> client_;
};

AuthDecision connect_through(const std::shared_ptr<const ClientAuth>& client) {
  AuthChain chain({}, {std::make_shared<Granting>(client)}, {});
  std::optional<AuthDecision> decision;
  chain.authenticate(ConnectRequest{.client_id = "c1", .username = "u1", .listener = "default"},
                     [&](AuthDecision d) { decision = std::move(d); });
  EXPECT_TRUE(decision);
  return decision.value_or(AuthDecision{});
}

TEST(ClientRules, ChainPassesThemOnAndRefusesAnExpiredAnswer) {
  auto client = std::make_shared<ClientAuth>(
      rules_of(R"([{"permission": "deny", "action": "all", "topic": "d"}])"));
  client->expire_at = unix_seconds_now() + 600;
  AuthDecision decision = connect_through(client);
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.client, client);

  auto expired = std::make_shared<ClientAuth>();
  expired->expire_at = unix_seconds_now() - 5;
  decision = connect_through(expired);
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.reason, codec::ReasonCode::bad_user_name_or_password);
}

TEST(ClientRules, AskedBeforeTheChainThatAnswersTheRest) {
  // no_match deny: what the client's rules leave open is refused by the chain.
  ChainSettings settings;
  settings.no_match_allow = false;
  AuthChain chain(settings, {}, {});
  const ClientAuth client =
      rules_of(R"([{"permission": "allow", "action": "all", "topic": "a/#"}])");
  const auto ask = [&](AccessRequest request) {
    request.client = &client;
    std::optional<bool> allowed;
    chain.authorize(request, [&](bool answer) { allowed = answer; });
    EXPECT_TRUE(allowed);
    return allowed.value_or(false);
  };
  EXPECT_TRUE(ask(pub("a/1")));
  EXPECT_FALSE(ask(pub("b")));
}

}  // namespace
}  // namespace cicada::broker::auth
