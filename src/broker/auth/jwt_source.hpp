// The JWT authentication step ([auth.jwt], EMQX's JWT authenticator): the token in the
// CONNECT's password (or user name) must verify (jwt.hpp), be within exp and nbf, and
// carry the claims verify_claims names. Then the client is in: a superuser when the
// claim is_superuser is true, with its own rules from the acl claim, and disconnected at
// exp unless disconnect_after_expire is off. A token whose claims fail (exp, nbf,
// verify_claims, a bad acl claim) is denied with 0x86 Bad user name or password (3.1.1:
// 4), as EMQX answers; one that does not verify, and a password that is no JWT at all,
// pass to the next step (EMQX: invalid_signature -> ignore). Answers inline: no I/O.
// Thread-safety: immutable; authenticate() from any worker at once.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "broker/auth/jwt.hpp"
#include "broker/auth/source.hpp"

namespace cicada::broker::auth {

struct JwtSettings {
  bool from_username = false;  // auth.jwt.from
  // auth.jwt.verify_claims: claim name, template with ${clientid} / ${username}.
  std::vector<std::pair<std::string, std::string>> verify_claims;
  std::string acl_claim_name = "acl";
  bool disconnect_after_expire = true;
};

// "clientid=${clientid}, username = ${username}" -> pairs; an error names the bad part.
Expected<std::vector<std::pair<std::string, std::string>>, std::string> parse_verify_claims(
    std::string_view text);

class JwtAuthenticator final : public Authenticator {
 public:
  JwtAuthenticator(JwtVerifier verifier, JwtSettings settings)
      : verifier_(std::move(verifier)), settings_(std::move(settings)) {}

  std::string_view name() const noexcept override { return "jwt"; }
  void authenticate(const ConnectRequest& request,
                    std::function<void(AuthAnswer)> done) const override;
  // The token, not the user name, makes a superuser (AccessRequest::superuser).
  Expected<std::shared_ptr<const Authenticator>, std::string> reloaded() const override {
    return Expected<std::shared_ptr<const Authenticator>, std::string>{
        std::make_shared<JwtAuthenticator>(*this)};
  }

  // The answer for a token at Unix time `now` (authenticate() uses the clock).
  AuthAnswer check(const ConnectRequest& request, std::int64_t now) const;

 private:
  JwtVerifier verifier_;
  JwtSettings settings_;
};

}  // namespace cicada::broker::auth
