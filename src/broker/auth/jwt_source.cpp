#include "broker/auth/jwt_source.hpp"

#include <boost/json.hpp>

#include "broker/auth/client_rules.hpp"
#include "broker/auth/text_lines.hpp"

namespace cicada::broker::auth {
namespace {

namespace json = boost::json;

AuthAnswer deny() {
  return AuthAnswer{.verdict = Verdict::deny,
                    .deny_reason = codec::ReasonCode::bad_user_name_or_password};
}

std::string expand(std::string_view pattern, const ConnectRequest& request) {
  std::string out;
  while (!pattern.empty()) {
    const auto open = pattern.find("${");
    out += pattern.substr(0, open);
    if (open == std::string_view::npos) break;
    pattern.remove_prefix(open);
    if (pattern.starts_with("${clientid}")) {
      out += request.client_id;
      pattern.remove_prefix(11);
    } else if (pattern.starts_with("${username}")) {
      out += request.username.value_or("");
      pattern.remove_prefix(11);
    } else {
      out += "${";
      pattern.remove_prefix(2);
    }
  }
  return out;
}

// exp and nbf are NumericDate: seconds, possibly with a fraction (RFC 7519 2).
std::optional<double> number_claim(const json::object& claims, std::string_view name, bool& bad) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  bad = true;
  return std::nullopt;
}

}  // namespace

Expected<std::vector<std::pair<std::string, std::string>>, std::string> parse_verify_claims(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) {
      const auto equals = item.find('=');
      if (equals == std::string_view::npos || trim(item.substr(0, equals)).empty()) {
        return unexpected("'" + std::string(item) + "' is not claim=value");
      }
      out.emplace_back(std::string(trim(item.substr(0, equals))),
                       std::string(trim(item.substr(equals + 1))));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return Expected<std::vector<std::pair<std::string, std::string>>, std::string>{std::move(out)};
}

void JwtAuthenticator::authenticate(const ConnectRequest& request,
                                    std::function<void(AuthAnswer)> done) const {
  done(check(request, unix_seconds_now()));
}

AuthAnswer JwtAuthenticator::check(const ConnectRequest& request, std::int64_t now) const {
  const std::optional<std::string>& field =
      settings_.from_username ? request.username : request.password;
  if (!field || !looks_like_jwt(*field)) return AuthAnswer{.verdict = Verdict::ignore};
  // A token that does not verify (signature, algorithm, encoding) is ignored, as EMQX's
  // emqx_authn_jwt answers invalid_signature: another step may know the client. A token
  // that verifies but whose claims fail is denied.
  auto claims = verifier_.verify(*field);
  if (!claims) return AuthAnswer{.verdict = Verdict::ignore};
  bool bad = false;
  const auto exp = number_claim(*claims, "exp", bad);
  const auto nbf = number_claim(*claims, "nbf", bad);
  if (bad) return deny();
  if (exp && static_cast<double>(now) >= *exp) return deny();  // RFC 7519 4.1.4
  if (nbf && static_cast<double>(now) < *nbf) return deny();   // RFC 7519 4.1.5
  for (const auto& [name, pattern] : settings_.verify_claims) {
    const json::value* v = claims->if_contains(name);
    if (v == nullptr || !v->is_string() || v->get_string() != expand(pattern, request)) {
      return deny();
    }
  }
  AuthAnswer answer{.verdict = Verdict::allow};
  if (const json::value* s = claims->if_contains("is_superuser")) {
    answer.superuser = s->is_bool() ? s->get_bool() : s->is_string() && s->get_string() == "true";
  }
  ClientAuth client;
  if (const json::value* acl = claims->if_contains(settings_.acl_claim_name)) {
    auto rules = parse_client_rules(*acl);
    if (!rules) return deny();  // rules meant for the client that cannot be read: not in
    client.rules = std::move(*rules);
  }
  if (exp && settings_.disconnect_after_expire) client.expire_at = static_cast<std::int64_t>(*exp);
  // The acl claim grants nothing once the token has expired, even to a client left
  // connected (disconnect_after_expire = false), as EMQX's client-info authorizer.
  if (exp && !client.rules.empty()) client.rules_expire_at = static_cast<std::int64_t>(*exp);
  if (client.expire_at || !client.rules.empty()) {
    answer.client = std::make_shared<const ClientAuth>(std::move(client));
  }
  return answer;
}

}  // namespace cicada::broker::auth
