#include "broker/auth/from_config.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "broker/auth/file_sources.hpp"
#include "broker/auth/http_sources.hpp"
#include "broker/auth/jwt_source.hpp"
#include "broker/auth/text_lines.hpp"

namespace cicada::broker::auth {
namespace {

std::set<std::string, std::less<>> split_names(std::string_view text) {
  std::set<std::string, std::less<>> names;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view name = trim(text.substr(0, comma));
    if (!name.empty()) names.emplace(name);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return names;
}

// [auth.jwt] -> the step, or a ConfigError naming the key.
std::shared_ptr<const Authenticator> jwt_step(const Config& config) {
  JwtSettings settings{.from_username = config.auth_jwt_from == "username",
                       .acl_claim_name = config.auth_jwt_acl_claim_name,
                       .disconnect_after_expire = config.auth_jwt_disconnect_after_expire};
  auto claims = parse_verify_claims(config.auth_jwt_verify_claims);
  if (!claims) throw ConfigError("auth.jwt.verify_claims: " + claims.error());
  settings.verify_claims = std::move(*claims);
  if (config.auth_jwt_algorithm == "hmac-based") {
    if (config.auth_jwt_secret.empty()) {
      throw ConfigError("auth.jwt.secret: required with algorithm = \"hmac-based\"");
    }
    std::string secret = config.auth_jwt_secret;
    if (config.auth_jwt_secret_base64) {
      // Standard base64 (RFC 4648 4), padding allowed: the url alphabet's twin.
      std::string url;
      for (char c : secret) {
        if (c == '=') continue;
        url.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
      }
      auto decoded = base64url_decode(url);
      if (!decoded || decoded->empty()) {
        throw ConfigError("auth.jwt.secret: not base64 (secret_base64_encoded = true)");
      }
      secret = std::move(*decoded);
    }
    return std::make_shared<JwtAuthenticator>(JwtVerifier::hmac(std::move(secret)),
                                              std::move(settings));
  }
  std::string pem = config.auth_jwt_public_key;
  if (pem.empty())
    throw ConfigError("auth.jwt.public_key: required with algorithm = \"public-key\"");
  if (!pem.starts_with("-----BEGIN")) {
    std::ifstream in(pem);
    if (!in) throw ConfigError("auth.jwt.public_key: cannot read " + pem);
    std::stringstream text;
    text << in.rdbuf();
    pem = text.str();
  }
  auto verifier = JwtVerifier::public_key(pem);
  if (!verifier) throw ConfigError("auth.jwt.public_key: " + verifier.error());
  return std::make_shared<JwtAuthenticator>(std::move(*verifier), std::move(settings));
}

}  // namespace

std::unique_ptr<AuthChain> chain_from_config(const Config& config) {
  ChainSettings settings;
  settings.no_match_allow = config.authorization_no_match_allow;
  for (const TcpListenerConfig& listener : config.tcp_listeners) {
    settings.allow_anonymous[listener.id()] = listener.allow_anonymous;
  }
  std::vector<std::shared_ptr<const Authenticator>> authenticators;
  std::vector<std::shared_ptr<const Authorizer>> authorizers;
  if (!config.auth_password_file.empty()) {
    auto step = PasswordFileAuthenticator::open(config.auth_password_file,
                                                split_names(config.auth_superusers));
    if (!step) throw ConfigError("auth.password_file.path: " + step.error());
    authenticators.push_back(std::move(*step));
  } else if (!config.auth_superusers.empty()) {
    throw ConfigError(
        "auth.password_file.superusers: superusers are users of a password file; set "
        "auth.password_file.path too");
  }
  // The order of each chain is fixed: files first (answered inline, no I/O), then JWT
  // (inline too), then HTTP.
  if (!config.auth_jwt_algorithm.empty()) authenticators.push_back(jwt_step(config));
  std::shared_ptr<HttpThread> http_thread;
  const auto http_step = [&](std::string_view section, const HttpStepSettings& step_settings) {
    if (!http_thread) http_thread = std::make_shared<HttpThread>();
    HttpStepSettings named = step_settings;
    named.section = std::string(section);
    auto step = HttpStep::make(http_thread, named);
    if (!step) throw ConfigError(std::string(section) + "." + step.error());
    return std::move(*step);
  };
  if (!config.auth_http_url.empty()) {
    authenticators.push_back(std::make_shared<HttpAuthenticator>(http_step(
        "auth.http",
        HttpStepSettings{
            .url = config.auth_http_url,
            .method = config.auth_http_method,
            .body = config.auth_http_body,
            .headers = config.auth_http_headers,
            .request_timeout = std::chrono::milliseconds(config.auth_http_timeout_ms),
            .connect_timeout = std::chrono::milliseconds(config.auth_http_connect_timeout_ms),
            .pool_size = config.auth_http_pool_size,
            .fail_closed = config.auth_http_fail_closed,
            .cache_ttl = std::chrono::milliseconds(config.auth_http_cache_ttl_ms),
            .cache_max_entries = config.auth_http_cache_max_entries,
            .cache_max_bytes = config.auth_http_cache_max_bytes})));
  }
  if (!config.authorization_acl_file.empty()) {
    auto step = AclFileAuthorizer::open(config.authorization_acl_file);
    if (!step) throw ConfigError("authorization.acl_file.path: " + step.error());
    authorizers.push_back(std::move(*step));
  }
  if (!config.authorization_http_url.empty()) {
    authorizers.push_back(std::make_shared<HttpAuthorizer>(http_step(
        "authorization.http",
        HttpStepSettings{
            .url = config.authorization_http_url,
            .method = config.authorization_http_method,
            .body = config.authorization_http_body,
            .headers = config.authorization_http_headers,
            .request_timeout = std::chrono::milliseconds(config.authorization_http_timeout_ms),
            .connect_timeout =
                std::chrono::milliseconds(config.authorization_http_connect_timeout_ms),
            .pool_size = config.authorization_http_pool_size,
            .fail_closed = config.authorization_http_fail_closed,
            .cache_ttl = std::chrono::milliseconds(config.authorization_http_cache_ttl_ms),
            .cache_max_entries = config.authorization_http_cache_max_entries,
            .cache_max_bytes = config.authorization_http_cache_max_bytes})));
  }
  return std::make_unique<AuthChain>(std::move(settings), std::move(authenticators),
                                     std::move(authorizers));
}

}  // namespace cicada::broker::auth
