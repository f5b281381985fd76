// JWT (RFC 7519) in JWS compact form (RFC 7515), verified with OpenSSL: HS256/384/512
// with a shared secret (RFC 7518 3.2), RS256/384/512 (3.3) and ES256/384/512 (3.4) with
// a public key. The verifier is built for one family; a token whose header names another
// algorithm, or "none", is refused, so a public key can never be used as an HMAC secret
// (the algorithm-confusion attack).
// Thread-safety: immutable once built; verify() may be called from any thread at once.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>

struct evp_pkey_st;

namespace cicada::broker::auth {

// Base64url without padding (RFC 7515 2, RFC 4648 5), strict: any other character, a
// length that cannot be, or bits set past the last byte make it nullopt.
std::optional<std::string> base64url_decode(std::string_view text);

// Three parts separated by two dots: anything else is not a JWT at all (the step ignores
// it, as EMQX does, so a password can still be checked by the next step).
bool looks_like_jwt(std::string_view token) noexcept;

class JwtVerifier {
 public:
  static JwtVerifier hmac(std::string secret);
  // PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of an RSA or EC key; an error says why not.
  static Expected<JwtVerifier, std::string> public_key(std::string_view pem);

  // The token's claims when its signature verifies with this verifier's key and family;
  // else why not. Claims themselves (exp, nbf, ...) are the caller's to check.
  Expected<boost::json::object, std::string> verify(std::string_view token) const;

 private:
  JwtVerifier() = default;
  std::string secret_;                // hmac
  std::shared_ptr<evp_pkey_st> key_;  // public key
};

}  // namespace cicada::broker::auth
