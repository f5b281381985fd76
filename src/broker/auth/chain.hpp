// AuthChain: the broker's AuthHooks made of ordered steps.
//
// Authentication asks each authenticator in turn; the first allow or deny decides
// (deny: the step's reason, 0x86 Bad User Name or Password / 3.1.1 return code 4 from the
// password file, 0x87 Not Authorized / 5 from HTTP as in EMQX). When every step
// ignores, the client is anonymous to the chain: it is accepted when its listener has
// allow_anonymous and it either sent no user name or no authenticator is configured at
// all (then nobody could check the name); otherwise it is refused, 0x87 Not Authorized
// (return code 5) without a user name, 0x86 (4) with one.
//
// A listener may name the authenticators its clients are asked (listeners.KIND.NAME.
// authenticators); the others never see them, so a service that vouches for clients on one
// listener cannot let them in on another.
//
// A client whose address the FailureBrake has banned is refused 0x8A Banned before any
// step is asked; every refusal counts towards such a ban.
//
// Authorization: a client that the authenticator which let it in made a superuser
// (AuthDecision::superuser: the password file's superusers, HTTP's and JWT's is_superuser)
// is allowed everything; otherwise its own rules, then each authorizer in turn, the first
// allow or deny decides, and when all ignore the configured no_match answer does. A
// superuser is never looked up by user name alone: a client that another step let in under
// the name "root" is not the password file's root.
//
// reload() rereads every step's files and swaps the new set in atomically; a step whose
// file is now bad keeps its old contents and the error is returned (and logged by the
// caller). A request already walking the chain finishes with the set it started with.
// Thread-safety: authenticate()/authorize() from any worker concurrently; reload() from
// any thread (reloads are serialised by a mutex that is never held while calling out).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/auth/failure_brake.hpp"
#include "broker/auth/hooks.hpp"
#include "broker/auth/source.hpp"

namespace cicada::broker::auth {

struct ChainSettings {
  // listeners.tcp.NAME.allow_anonymous by listener name; a listener not named allows.
  std::map<std::string, bool, std::less<>> allow_anonymous;
  bool no_match_allow = true;  // authorization.no_match
  // listeners.KIND.NAME.authenticators by listener id, as indexes into the authenticators
  // in chain order; a listener not named asks every authenticator.
  std::map<std::string, std::vector<std::size_t>, std::less<>> listener_authenticators;
  // node.auth_failure_limit / _window / _ban: addresses that fail too often are banned.
  FailureBrakeSettings failure_brake;
};

class AuthChain final : public AuthHooks {
 public:
  AuthChain(ChainSettings settings,
            std::vector<std::shared_ptr<const Authenticator>> authenticators,
            std::vector<std::shared_ptr<const Authorizer>> authorizers);

  bool allows_everything() const noexcept override { return allows_everything_; }
  void authenticate(const ConnectRequest& request, std::function<void(AuthDecision)> done) override;
  void authorize(const AccessRequest& request, std::function<void(bool allowed)> done) override;

  // Rereads the files. Returns one message per step that failed ("<file>:<line>: ...");
  // empty when every step reloaded.
  std::vector<std::string> reload();

 private:
  struct Steps {
    std::vector<std::shared_ptr<const Authenticator>> authenticators;
    std::vector<std::shared_ptr<const Authorizer>> authorizers;
  };
  using StepsPtr = std::shared_ptr<const Steps>;

  // `order`: the listener's authenticators, or null for all of them.
  void authenticate_from(StepsPtr steps, const std::vector<std::size_t>* order, std::size_t index,
                         std::shared_ptr<const ConnectRequest> request,
                         std::function<void(AuthDecision)> done) const;
  void authorize_from(StepsPtr steps, std::size_t index,
                      std::shared_ptr<const AccessRequest> request,
                      std::function<void(bool)> done) const;
  bool anonymous_allowed(const std::string& listener) const;

  const ChainSettings settings_;
  const bool allows_everything_;
  FailureBrake brake_;
  std::atomic<StepsPtr> steps_;
  std::mutex reload_mutex_;
};

}  // namespace cicada::broker::auth
