#include "broker/auth/from_config.hpp"

#include <algorithm>
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

// "cicada.toml:12: authentication[2].url: <what>", or "auth.http.url: <what>" for a step
// built in code.
template <class Entry>
ConfigError error(const Entry& entry, std::string_view key, std::string_view what) {
  std::string message;
  if (!entry.origin.where.empty()) message = entry.origin.where + ": ";
  message += entry.origin.key.empty() ? entry.name : entry.origin.key;
  message.append(".").append(key).append(": ").append(what);
  return ConfigError(message);
}

// A jwt step, or a ConfigError naming the key.
std::shared_ptr<const Authenticator> jwt_step(const AuthenticatorConfig& config) {
  JwtSettings settings{.from_username = config.from == "username",
                       .acl_claim_name = config.acl_claim_name,
                       .disconnect_after_expire = config.disconnect_after_expire};
  auto claims = parse_verify_claims(config.verify_claims);
  if (!claims) throw error(config, "verify_claims", claims.error());
  settings.verify_claims = std::move(*claims);
  if (config.algorithm == "hmac-based") {
    if (config.secret.empty()) {
      throw error(config, "secret", "required with algorithm = \"hmac-based\"");
    }
    std::string secret = config.secret;
    if (config.secret_base64_encoded) {
      // Standard base64 (RFC 4648 4), padding allowed: the url alphabet's twin.
      std::string url;
      for (char c : secret) {
        if (c == '=') continue;
        url.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
      }
      auto decoded = base64url_decode(url);
      if (!decoded || decoded->empty()) {
        throw error(config, "secret", "not base64 (secret_base64_encoded = true)");
      }
      secret = std::move(*decoded);
    }
    return std::make_shared<JwtAuthenticator>(JwtVerifier::hmac(std::move(secret)),
                                              std::move(settings));
  }
  std::string pem = config.public_key;
  if (pem.empty()) throw error(config, "public_key", "required with algorithm = \"public-key\"");
  if (!pem.starts_with("-----BEGIN")) {
    std::ifstream in(pem);
    if (!in) throw error(config, "public_key", "cannot read " + pem);
    std::stringstream text;
    text << in.rdbuf();
    pem = text.str();
  }
  auto verifier = JwtVerifier::public_key(pem);
  if (!verifier) throw error(config, "public_key", verifier.error());
  return std::make_shared<JwtAuthenticator>(std::move(*verifier), std::move(settings));
}

// An HTTP step's settings; the same keys in both chains.
template <class Entry>
HttpStepSettings http_settings(const Entry& entry) {
  return HttpStepSettings{.url = entry.url,
                          .method = entry.method,
                          .body = entry.body,
                          .headers = entry.headers,
                          .request_timeout = std::chrono::milliseconds(entry.request_timeout_ms),
                          .connect_timeout = std::chrono::milliseconds(entry.connect_timeout_ms),
                          .pool_size = entry.pool_size,
                          .fail_closed = entry.on_error_deny,
                          .section = entry.origin.key.empty() ? entry.name : entry.origin.key,
                          .cache_ttl = std::chrono::milliseconds(entry.cache_ttl_ms),
                          .cache_max_entries = entry.cache_max_entries,
                          .cache_max_bytes = entry.cache_max_bytes,
                          .tls = HttpTlsSettings{.verify = entry.ssl_verify,
                                                 .cacertfile = entry.ssl_cacertfile,
                                                 .certfile = entry.ssl_certfile,
                                                 .keyfile = entry.ssl_keyfile,
                                                 .server_name = entry.ssl_server_name_indication}};
}

// Both HTTP chains share one HTTP thread, started by the first HTTP step.
class HttpSteps {
 public:
  template <class Entry>
  std::shared_ptr<const HttpStep> make(const Entry& entry) {
    if (entry.url.empty()) throw error(entry, "url", "required");
    if (!thread_) thread_ = std::make_shared<HttpThread>();
    auto step = HttpStep::make(thread_, http_settings(entry));
    if (!step) {
      // "url: ..." -> the key and its message.
      const std::string& what = step.error();
      const auto colon = what.find(": ");
      if (colon == std::string::npos) throw error(entry, "url", what);
      throw error(entry, std::string_view(what).substr(0, colon), what.substr(colon + 2));
    }
    return std::move(*step);
  }

 private:
  std::shared_ptr<HttpThread> thread_;
};

std::shared_ptr<const Authenticator> authenticator(const AuthenticatorConfig& config,
                                                   HttpSteps& http) {
  switch (config.backend) {
    case AuthBackend::password_file: {
      if (config.path.empty()) throw error(config, "path", "required");
      auto step = PasswordFileAuthenticator::open(config.path, split_names(config.superusers));
      if (!step) throw error(config, "path", step.error());
      return std::move(*step);
    }
    case AuthBackend::jwt:
      if (config.algorithm.empty()) {
        throw error(config, "algorithm", "required: hmac-based or public-key");
      }
      return jwt_step(config);
    case AuthBackend::http:
      break;
  }
  return std::make_shared<HttpAuthenticator>(http.make(config));
}

std::shared_ptr<const Authorizer> authorizer(const AuthorizationSourceConfig& config,
                                             HttpSteps& http) {
  if (config.type == AuthzType::http) return std::make_shared<HttpAuthorizer>(http.make(config));
  if (config.path.empty()) throw error(config, "path", "required");
  auto step = AclFileAuthorizer::open(config.path);
  if (!step) throw error(config, "path", step.error());
  return std::move(*step);
}

}  // namespace

std::unique_ptr<AuthChain> chain_from_config(const Config& config) {
  ChainSettings settings;
  settings.no_match_allow = config.authorization_no_match_allow;
  settings.failure_brake =
      FailureBrakeSettings{.limit = config.auth_failure_limit,
                           .window = std::chrono::milliseconds(config.auth_failure_window_ms),
                           .ban = std::chrono::milliseconds(config.auth_failure_ban_ms)};
  HttpSteps http;
  std::vector<std::shared_ptr<const Authenticator>> authenticators;
  std::vector<std::string_view> names;  // of the enabled authenticators, in chain order
  for (const AuthenticatorConfig& entry : config.authentication) {
    if (!entry.enable) continue;
    authenticators.push_back(authenticator(entry, http));
    names.push_back(entry.name);
  }
  for (const TcpListenerConfig& listener : config.tcp_listeners) {
    settings.allow_anonymous[listener.id()] = listener.allow_anonymous;
    if (listener.authenticators.empty()) continue;
    // The listener's list in the chain's order; a disabled authenticator is asked by nobody.
    std::vector<std::size_t>& order = settings.listener_authenticators[listener.id()];
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (std::find(listener.authenticators.begin(), listener.authenticators.end(), names[i]) !=
          listener.authenticators.end()) {
        order.push_back(i);
      }
    }
  }
  std::vector<std::shared_ptr<const Authorizer>> authorizers;
  for (const AuthorizationSourceConfig& entry : config.authorization_sources) {
    if (entry.enable) authorizers.push_back(authorizer(entry, http));
  }
  return std::make_unique<AuthChain>(std::move(settings), std::move(authenticators),
                                     std::move(authorizers));
}

}  // namespace cicada::broker::auth
