// The chain: order of steps, anonymous clients, no_match, superusers, and reload.
#include "broker/auth/chain.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "broker/auth/file_sources.hpp"
#include "broker/auth/from_config.hpp"
#include "broker/auth/password_hash.hpp"

namespace cicada::broker::auth {
namespace {

using codec::ReasonCode;

std::string temp_file(const std::string& content) {
  static int counter = 0;
  const std::string path = ::testing::TempDir() + "cicada_auth_" + std::to_string(getpid()) + "_" +
                           std::to_string(++counter);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

void rewrite(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// A step with a fixed answer, to check the chain's order.
class Fixed final : public Authenticator {
 public:
  explicit Fixed(Verdict verdict, int* calls = nullptr) : verdict_(verdict), calls_(calls) {}
  std::string_view name() const noexcept override { return "fixed"; }
  void authenticate(const ConnectRequest&, std::function<void(AuthAnswer)> done) const override {
    if (calls_) ++*calls_;
    done(AuthAnswer{.verdict = verdict_});
  }
  Expected<std::shared_ptr<const Authenticator>, std::string> reloaded() const override {
    return std::shared_ptr<const Authenticator>(std::make_shared<Fixed>(verdict_, calls_));
  }

 private:
  Verdict verdict_;
  int* calls_;
};

ConnectRequest connect(std::optional<std::string> user, std::optional<std::string> password,
                       std::string listener = "default") {
  return ConnectRequest{.client_id = "c1",
                        .username = std::move(user),
                        .password = std::move(password),
                        .peer_host = "127.0.0.1",
                        .listener = std::move(listener)};
}

AuthDecision ask(AuthHooks& hooks, const ConnectRequest& request) {
  // The password file answers from its hash pool's thread (hash_pool.hpp): wait for it.
  auto answer = std::make_shared<std::promise<AuthDecision>>();
  auto future = answer->get_future();
  hooks.authenticate(request, [answer](AuthDecision d) { answer->set_value(d); });
  return future.get();
}

bool ask(AuthHooks& hooks, const AccessRequest& request) {
  std::optional<bool> answer;
  hooks.authorize(request, [&](bool allowed) { answer = allowed; });
  EXPECT_TRUE(answer);
  return answer.value_or(false);
}

AccessRequest publish(std::string topic, std::optional<std::string> user) {
  return AccessRequest{.client_id = "c1",
                       .username = std::move(user),
                       .topic = std::move(topic),
                       .action = Action::publish,
                       .qos = 1,
                       .retain = false};
}

Config config_with(const std::string& password_file, const std::string& acl_file,
                   bool allow_anonymous, bool no_match_allow) {
  Config config;
  TcpListenerConfig listener;
  listener.name = "default";
  listener.allow_anonymous = allow_anonymous;
  config.tcp_listeners.push_back(listener);
  if (!password_file.empty()) {
    config.authentication.push_back(
        AuthenticatorConfig{.backend = AuthBackend::password_file, .path = password_file});
  }
  if (!acl_file.empty()) {
    config.authorization_sources.push_back(
        AuthorizationSourceConfig{.type = AuthzType::file, .path = acl_file});
  }
  config.authorization_no_match_allow = no_match_allow;
  return config;
}

TEST(AuthChain, FirstAnswerThatIsNotIgnoreDecides) {
  int later = 0;
  AuthChain chain({},
                  {std::make_shared<Fixed>(Verdict::ignore), std::make_shared<Fixed>(Verdict::deny),
                   std::make_shared<Fixed>(Verdict::allow, &later)},
                  {});
  const AuthDecision d = ask(chain, connect("u", "p"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(later, 0);

  AuthChain allow({},
                  {std::make_shared<Fixed>(Verdict::ignore),
                   std::make_shared<Fixed>(Verdict::allow), std::make_shared<Fixed>(Verdict::deny)},
                  {});
  EXPECT_TRUE(ask(allow, connect("u", "p")).allowed);
}

TEST(AuthChain, NoStepsKeepsTodaysBehaviour) {
  AuthChain chain({}, {}, {});
  EXPECT_TRUE(chain.allows_everything());
  EXPECT_TRUE(ask(chain, connect("anyone", "anything")).allowed);
  EXPECT_TRUE(ask(chain, publish("a/b", std::nullopt)));
}

TEST(AuthChain, AllIgnoreDependsOnAllowAnonymousPerListener) {
  ChainSettings settings;
  settings.allow_anonymous = {{"open", true}, {"closed", false}};
  AuthChain chain(settings, {std::make_shared<Fixed>(Verdict::ignore)}, {});
  EXPECT_FALSE(chain.allows_everything());
  EXPECT_TRUE(ask(chain, connect(std::nullopt, std::nullopt, "open")).allowed);
  const AuthDecision closed = ask(chain, connect(std::nullopt, std::nullopt, "closed"));
  EXPECT_FALSE(closed.allowed);
  EXPECT_EQ(closed.reason, ReasonCode::not_authorized);
  // A user name nobody recognised is refused even where anonymous clients are welcome.
  const AuthDecision unknown = ask(chain, connect("who", "pw", "open"));
  EXPECT_FALSE(unknown.allowed);
  EXPECT_EQ(unknown.reason, ReasonCode::bad_user_name_or_password);
}

TEST(AuthChain, ListenerAsksOnlyItsOwnAuthenticators) {
  int first = 0;
  int second = 0;
  ChainSettings settings;
  settings.listener_authenticators = {{"second-only", {1}}};
  settings.allow_anonymous = {{"second-only", false}};
  AuthChain chain(settings,
                  {std::make_shared<Fixed>(Verdict::allow, &first),
                   std::make_shared<Fixed>(Verdict::ignore, &second)},
                  {});
  EXPECT_TRUE(ask(chain, connect("u", "p")).allowed);  // a listener not named: every step
  EXPECT_EQ(first, 1);
  const AuthDecision refused = ask(chain, connect("u", "p", "second-only"));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(first, 1);  // never asked for that listener's clients
  EXPECT_EQ(second, 1);
}

TEST(AuthChain, FromConfigFollowsListenerListsAndSkipsDisabledSteps) {
  const std::string staff = temp_file("alice:" + make_pbkdf2_hash("pw-a") + "\n");
  const std::string devices = temp_file("dev1:" + make_pbkdf2_hash("pw-d") + "\n");
  Config config = config_with("", "", false, true);
  config.authentication = {
      AuthenticatorConfig{.name = "staff", .path = staff, .superusers = "alice"},
      AuthenticatorConfig{.name = "devices", .path = devices},
      AuthenticatorConfig{.name = "off", .enable = false, .path = "/nonexistent"},
  };
  TcpListenerConfig field;
  field.name = "field";
  field.allow_anonymous = false;
  field.authenticators = {"devices", "off"};
  config.tcp_listeners.push_back(field);
  auto chain = chain_from_config(config);  // the disabled step's missing file is not read
  EXPECT_TRUE(ask(*chain, connect("alice", "pw-a")).superuser);
  EXPECT_TRUE(ask(*chain, connect("dev1", "pw-d")).allowed);
  EXPECT_TRUE(ask(*chain, connect("dev1", "pw-d", "field")).allowed);
  const AuthDecision alice_in_the_field = ask(*chain, connect("alice", "pw-a", "field"));
  EXPECT_FALSE(alice_in_the_field.allowed);
  EXPECT_FALSE(alice_in_the_field.superuser);
}

TEST(AuthChain, AnAddressThatFailsTooOftenIsBannedBeforeAnyStepIsAsked) {
  int asked = 0;
  ChainSettings settings;
  settings.failure_brake = FailureBrakeSettings{.limit = 3};
  AuthChain chain(settings, {std::make_shared<Fixed>(Verdict::deny, &asked)}, {});
  auto from = [](const char* peer) {
    ConnectRequest request = connect("u", "p");
    request.peer_host = peer;
    return request;
  };
  for (int i = 0; i < 3; ++i) {
    // A new port each time: the address is what counts.
    const AuthDecision d = ask(chain, from(("192.0.2.7:" + std::to_string(40000 + i)).c_str()));
    EXPECT_EQ(d.reason, ReasonCode::bad_user_name_or_password);
  }
  EXPECT_EQ(asked, 3);
  const AuthDecision banned = ask(chain, from("192.0.2.7:40009"));
  EXPECT_FALSE(banned.allowed);
  EXPECT_EQ(banned.reason, ReasonCode::banned);
  EXPECT_EQ(asked, 3);  // the step was not asked
  EXPECT_EQ(ask(chain, from("[::1]:1")).reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(asked, 4);
}

TEST(AuthChain, PasswordFileAclFileAndNoMatch) {
  const std::string passwd =
      temp_file("alice:" + make_pbkdf2_hash("pw-a") + "\nroot:" + make_pbkdf2_hash("pw-r") + "\n");
  const std::string acl = temp_file("user alice\ntopic write alice/#\ntopic deny alice/no\n");
  for (const bool no_match_allow : {false, true}) {
    Config config = config_with(passwd, acl, false, no_match_allow);
    config.authentication[0].superusers = "root, nobody";
    auto chain = chain_from_config(config);
    EXPECT_TRUE(ask(*chain, connect("alice", "pw-a")).allowed);
    EXPECT_FALSE(ask(*chain, connect("alice", "pw-x")).allowed);
    EXPECT_EQ(ask(*chain, connect("mallory", "pw-a")).reason,
              ReasonCode::bad_user_name_or_password);
    EXPECT_EQ(ask(*chain, connect(std::nullopt, std::nullopt)).reason, ReasonCode::not_authorized);
    const AuthDecision root = ask(*chain, connect("root", "pw-r"));
    EXPECT_TRUE(root.allowed);
    EXPECT_TRUE(root.superuser);

    EXPECT_TRUE(ask(*chain, publish("alice/x", "alice")));
    EXPECT_FALSE(ask(*chain, publish("alice/no", "alice")));
    EXPECT_EQ(ask(*chain, publish("elsewhere", "alice")), no_match_allow);
    // Superusers bypass the ACL, even its deny lines. The right comes with the
    // authentication, never with the name alone: "root" let in by anything but the file
    // is an ordinary client; a superuser name that is not in the file grants nothing.
    AccessRequest as_root = publish("alice/no", "root");
    as_root.superuser = root.superuser;
    EXPECT_TRUE(ask(*chain, as_root));
    EXPECT_EQ(ask(*chain, publish("alice/no", "root")), no_match_allow);
    EXPECT_FALSE(ask(*chain, connect("nobody", "pw-r")).allowed);
  }
}

TEST(AuthChain, BadFilesStopStartUpNamingFileAndLine) {
  const std::string passwd = temp_file("alice:" + make_pbkdf2_hash("pw") + "\nbroken\n");
  try {
    (void)chain_from_config(config_with(passwd, "", true, true));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(passwd + ":2: expected username:hash"), std::string::npos)
        << e.what();
  }
  const std::string acl = temp_file("topic read a\ntopic read a/#/b\n");
  try {
    (void)chain_from_config(config_with("", acl, true, true));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(acl + ":2: invalid topic filter"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)chain_from_config(config_with("/nonexistent/passwd", "", true, true)),
               ConfigError);
  Config no_path = config_with("", "", true, true);
  no_path.authentication.push_back(
      AuthenticatorConfig{.backend = AuthBackend::password_file, .superusers = "root"});
  EXPECT_THROW((void)chain_from_config(no_path), ConfigError);
}

TEST(AuthChain, ReloadPicksUpChangesAndKeepsTheOldFileWhenTheNewOneIsBad) {
  const std::string passwd = temp_file("alice:" + make_pbkdf2_hash("one") + "\n");
  const std::string acl = temp_file("user alice\ntopic write a\n");
  auto chain = chain_from_config(config_with(passwd, acl, false, false));
  EXPECT_FALSE(ask(*chain, connect("bob", "two")).allowed);
  EXPECT_FALSE(ask(*chain, publish("b", "alice")));

  rewrite(passwd, "alice:" + make_pbkdf2_hash("one") + "\nbob:" + make_pbkdf2_hash("two") + "\n");
  rewrite(acl, "user alice\ntopic write b\n");
  EXPECT_TRUE(chain->reload().empty());
  EXPECT_TRUE(ask(*chain, connect("bob", "two")).allowed);
  EXPECT_TRUE(ask(*chain, publish("b", "alice")));
  EXPECT_FALSE(ask(*chain, publish("a", "alice")));

  // A bad password file keeps the old users; the good ACL file is still taken.
  rewrite(passwd, "garbage\n");
  rewrite(acl, "user alice\ntopic write c\n");
  const auto errors = chain->reload();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(passwd + ":1:"), std::string::npos) << errors[0];
  EXPECT_TRUE(ask(*chain, connect("bob", "two")).allowed);
  EXPECT_TRUE(ask(*chain, publish("c", "alice")));
}

TEST(AuthChain, ReloadIsSafeWhileWorkersAsk) {
  const std::string passwd = temp_file("alice:$7$1$" + std::string("ZgKvZbYFBHnEOZ2T") + "$" +
                                       std::string(88, 'A').replace(86, 2, "==") + "\n");
  const std::string acl = temp_file("topic readwrite #\n");
  auto chain = chain_from_config(config_with(passwd, acl, true, false));
  // Two "workers" ask while this thread reloads until both are done; under
  // ThreadSanitizer or ASan this shows a data race or use-after-free if the swap is unsafe.
  std::atomic<int> running{2};
  std::atomic<int> refused{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        if (!ask(*chain, publish("a/b", std::nullopt))) refused.fetch_add(1);
        if (ask(*chain, connect("alice", "x")).allowed) refused.fetch_add(1);
      }
      running.fetch_sub(1);
    });
  }
  int reloads = 0;
  while (running.load() > 0 || reloads == 0) {
    EXPECT_TRUE(chain->reload().empty());
    ++reloads;
  }
  for (auto& w : workers)
    w.join();
  EXPECT_EQ(refused.load(), 0);
}

}  // namespace
}  // namespace cicada::broker::auth
