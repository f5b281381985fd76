// The keys of authenticators and authorization sources: each backend's rows, read from an
// [[authentication]] / [[authorization.sources]] table or from the backend's section
// ([auth.http], [authorization.acl_file], ...). Key names after EMQX 5's authn/authz.
#include <array>
#include <span>
#include <string_view>

#include "broker/config/option_rows.hpp"
#include "broker/config/options.hpp"

namespace cicada::broker::config {
namespace {

using namespace rows;  // NOLINT(google-build-using-namespace): the row builders

using T = OptionType;
using A = AuthenticatorConfig;
using S = AuthorizationSourceConfig;

// EMQX's names: jwt.algorithm and jwt.from; "" = not set, refused when the step is built.
constexpr std::array<std::string_view, 3> kJwtAlgorithms{"", "hmac-based", "public-key"};
constexpr std::array<std::string_view, 2> kJwtFrom{"password", "username"};
constexpr std::array<std::string_view, 2> kHttpMethods{"post", "get"};
// on_error, in the order of a bool (true = deny).
constexpr std::array<std::string_view, 2> kOnError{"ignore", "deny"};
// ssl.verify, in the order of a bool (true = verify_peer).
constexpr std::array<std::string_view, 2> kVerify{"verify_none", "verify_peer"};

// A bool stored as one of two names, false first (on_error, ssl.verify).
template <auto Member, const auto& Names>
void set_pair(ClassOf<Member>& target, const OptionValue& value) {
  target.*Member = std::get<std::string>(value) == Names[1];
}
template <auto Member, const auto& Names>
OptionValue get_pair(const ClassOf<Member>& target) {
  return std::string(Names[target.*Member ? 1 : 0]);
}
template <auto Member, const auto& Names>
constexpr OptionSpec<ClassOf<Member>> pair(std::string_view key, std::string_view default_value,
                                           std::string_view description) {
  return {.key = key,
          .type = T::enumeration,
          .default_value = default_value,
          .reloadable = restart,
          .choices = Names,
          .description = description,
          .set = set_pair<Member, Names>,
          .get = get_pair<Member, Names>};
}

template <class Entry>
constexpr std::array<OptionSpec<Entry>, 2> common_rows(std::string_view name_description) {
  return {
      text<&Entry::name>("name", "", 64, restart, name_description),
      boolean<&Entry::enable>("enable", "true", restart,
                              "false keeps the table in the file but asks it nothing."),
  };
}

// The keys of an HTTP step; authentication and authorization differ in the body's default
// and placeholders and in what a failure passes to.
template <class Entry>
constexpr std::array<OptionSpec<Entry>, 16> http_rows(std::string_view url_description,
                                                      std::string_view body_default,
                                                      std::string_view body_description,
                                                      std::string_view on_error_description) {
  OptionSpec<Entry> body =
      text<&Entry::body>("body", body_default, kU16, restart, body_description);
  body.table_form = TableForm::json_object;
  OptionSpec<Entry> headers =
      text<&Entry::headers>("headers", "", kU16, restart,
                            "Extra request headers: a table { \"X-Key\" = \"k\" }, or one "
                            "'Name: value' per line.");
  headers.table_form = TableForm::header_lines;
  return {
      text<&Entry::url>("url", "", 4096, restart, url_description),
      choice<&Entry::method, kHttpMethods>("method", "post", restart,
                                           "HTTP method; with get the body is sent as the "
                                           "query string."),
      body,
      headers,
      number<&Entry::request_timeout_ms>(T::duration, "request_timeout", "5s", 1, 3'600'000,
                                         restart, "Time allowed for one request and its response.",
                                         /*milliseconds=*/true),
      number<&Entry::connect_timeout_ms>(T::duration, "connect_timeout", "15s", 1, 3'600'000,
                                         restart, "Time allowed to connect to the service.",
                                         /*milliseconds=*/true),
      number<&Entry::pool_size>(T::integer, "pool_size", "8", 1, 1024, restart,
                                "Keep-alive connections to the service; more requests wait "
                                "for a free one."),
      pair<&Entry::on_error_deny, kOnError>("on_error", "ignore", on_error_description),
      number<&Entry::cache_ttl_ms>(
          T::duration, "cache_ttl", "0s", 0, 86'400'000, restart,
          "How long an answer of the service is reused for the same request (same rendered "
          "URL and body); 0 = no cache. Only answers are kept, not failures.",
          /*milliseconds=*/true),
      number<&Entry::cache_max_entries>(
          T::integer, "cache_max_entries", "100000", 1, 100'000'000, restart,
          "Most answers the cache holds; the least recently used go first."),
      number<&Entry::cache_max_bytes>(T::size, "cache_max_bytes", "100MB", 1024, 1ull << 40,
                                      restart, "Most memory the cache's answers take, roughly."),
      pair<&Entry::ssl_verify, kVerify>(
          "ssl.verify", "verify_peer",
          "https: verify_peer checks the service's certificate against ssl.cacertfile and "
          "its name against the URL's host (or ssl.server_name_indication); verify_none "
          "checks nothing (testing only)."),
      text<&Entry::ssl_cacertfile>("ssl.cacertfile", "", 4096, restart,
                                   "https: PEM file of the CAs the service's certificate must "
                                   "chain to; empty = the system's CAs."),
      text<&Entry::ssl_certfile>("ssl.certfile", "", 4096, restart,
                                 "https: PEM client certificate (and chain) sent to a service "
                                 "that asks for one; needs ssl.keyfile."),
      text<&Entry::ssl_keyfile>("ssl.keyfile", "", 4096, restart,
                                "https: the client certificate's private key (PEM)."),
      text<&Entry::ssl_server_name_indication>(
          "ssl.server_name_indication", "", 255, restart,
          "https: the name sent as SNI and verified in the service's certificate; empty = "
          "the URL's host (an IP address is verified but not sent)."),
  };
}

constexpr auto kAuthenticatorCommon = common_rows<A>(
    "The authenticator's name, for listeners' authenticators lists and error messages: "
    "lower-case letters, digits, '_' and '-'. Default: the backend's name, so two "
    "authenticators of one backend need names.");
constexpr auto kAuthorizationSourceCommon = common_rows<S>(
    "The source's name, for error messages: lower-case letters, digits, '_' and '-'. "
    "Default: the type's name, so two sources of one type need names.");

constexpr std::array kPasswordFile{
    text<&A::path>("path", "", 4096, restart,
                   "Password file in mosquitto_passwd's format ($7$ PBKDF2-SHA512, $6$ SHA-512, "
                   "$argon2id$); written by cicada-passwd. Its content is reloaded on SIGHUP. "
                   "Required."),
    text<&A::superusers>("superusers", "", kU16, restart,
                         "Comma-separated user names from the password file that bypass "
                         "authorization once this file has authenticated them."),
};

constexpr std::array kJwt{
    choice<&A::algorithm, kJwtAlgorithms>(
        "algorithm", "", restart,
        "hmac-based (HS256/HS384/HS512 with secret) or public-key (RS256/384/512, "
        "ES256/384/512 with public_key). Required. A token signed with another algorithm, "
        "or alg none, is refused."),
    text<&A::secret>("secret", "", kU16, restart, "The HMAC secret (hmac-based)."),
    boolean<&A::secret_base64_encoded>("secret_base64_encoded", "false", restart,
                                       "The secret is given in base64."),
    text<&A::public_key>(
        "public_key", "", kU16, restart,
        "The public key (public-key): PEM text (-----BEGIN PUBLIC KEY-----...) or the path "
        "of a PEM file, read at start-up. RSA for RS*, an EC P-256/P-384/P-521 key for ES*."),
    choice<&A::from, kJwtFrom>("from", "password", restart,
                               "Which CONNECT field carries the token."),
    text<&A::verify_claims>(
        "verify_claims", "", kU16, restart,
        "Claims that must equal a value, 'claim=template' separated by commas, templates "
        "with ${clientid} and ${username}: e.g. 'clientid=${clientid}'. A token without "
        "the claim, or with another value, is refused."),
    text<&A::acl_claim_name>(
        "acl_claim_name", "acl", 4096, restart,
        "The claim holding the client's own authorization rules (EMQX's rule list or its "
        "older {pub, sub, all} form), asked before the authorization sources."),
    boolean<&A::disconnect_after_expire>(
        "disconnect_after_expire", "true", restart,
        "Disconnect the client (0x87) when the token's exp passes; false: exp is checked at "
        "CONNECT only."),
};

constexpr auto kHttpAuthenticator = http_rows<A>(
    "HTTP authentication service, http://HOST[:PORT]/PATH or https://... (see ssl.*); "
    "placeholders allowed. Required.",
    R"({"clientid":"${clientid}","username":"${username}","password":"${password}"})",
    "Request body: a JSON object (or a TOML table) whose string values may hold ${clientid}, "
    "${username}, ${password}, ${peerhost}, ${peerport}, ${cert_subject}, "
    "${cert_common_name}. Sent as JSON, or form-encoded when headers set Content-Type: "
    "application/x-www-form-urlencoded.",
    "When the service fails (no connection, timeout, status other than 200/204): ignore "
    "passes to the next step, deny refuses the client.");

constexpr std::array kAclFile{
    text<&S::path>("path", "", 4096, restart,
                   "ACL file in Mosquitto's syntax (user, topic, pattern). Its content is "
                   "reloaded on SIGHUP. Required."),
};

constexpr auto kHttpAuthorizer = http_rows<S>(
    "HTTP authorization service, http://HOST[:PORT]/PATH or https://... (see ssl.*); "
    "placeholders allowed. Required.",
    R"({"clientid":"${clientid}","username":"${username}","topic":"${topic}",)"
    R"("action":"${action}"})",
    "Request body: a JSON object (or a TOML table) whose string values may hold ${clientid}, "
    "${username}, ${peerhost}, ${peerport}, ${topic}, ${action} (publish or subscribe), "
    "${qos}, ${retain}. Sent as JSON, or form-encoded when headers set Content-Type: "
    "application/x-www-form-urlencoded.",
    "When the service fails: ignore passes to the next source (and then "
    "authorization.no_match), deny refuses the publish or subscribe.");

}  // namespace

std::span<const AuthenticatorOption> authenticator_options(AuthBackend backend) {
  switch (backend) {
    case AuthBackend::password_file:
      return kPasswordFile;
    case AuthBackend::jwt:
      return kJwt;
    case AuthBackend::http:
      return kHttpAuthenticator;
  }
  return {};
}
std::span<const AuthenticatorOption> authenticator_common_options() {
  return kAuthenticatorCommon;
}
std::span<const AuthorizationSourceOption> authorization_source_options(AuthzType type) {
  switch (type) {
    case AuthzType::file:
      return kAclFile;
    case AuthzType::http:
      return kHttpAuthorizer;
  }
  return {};
}
std::span<const AuthorizationSourceOption> authorization_source_common_options() {
  return kAuthorizationSourceCommon;
}

}  // namespace cicada::broker::config
