// The steps of the authentication and authorization chains. Each answers allow, deny or
// ignore through a callback, so a step may answer inline (files) or later from another
// thread (HTTP); the chain moves on to the next step on ignore.
// Thread-safety: a step is immutable once built and may be asked from any thread at once;
// reloading builds a new step instead of changing one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>

#include "broker/auth/client_auth.hpp"
#include "broker/auth/hooks.hpp"
#include "broker/auth/verdict.hpp"

namespace cicada::broker::auth {

struct AuthAnswer {
  Verdict verdict = Verdict::ignore;
  bool superuser = false;  // with allow: this client bypasses authorization
  // With deny: the CONNACK reason. Files refuse a wrong password with 0x86 Bad User Name or
  // Password (3.1.1: 4); EMQX's HTTP authenticator turns "deny" into not_authorized, 0x87
  // (3.1.1: 5), and so does Cicada's.
  codec::ReasonCode deny_reason = codec::ReasonCode::bad_user_name_or_password;
  // With allow: rules and expiry from the answer (HTTP `acl` / `expire_at`, JWT claims).
  std::shared_ptr<const ClientAuth> client;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual void authenticate(const ConnectRequest& request,
                            std::function<void(AuthAnswer)> done) const = 0;
  // The same step with its files read again; an error leaves this one in use.
  virtual Expected<std::shared_ptr<const Authenticator>, std::string> reloaded() const = 0;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual void authorize(const AccessRequest& request, std::function<void(Verdict)> done) const = 0;
  virtual Expected<std::shared_ptr<const Authorizer>, std::string> reloaded() const = 0;
};

}  // namespace cicada::broker::auth
