// The request and response formats of EMQX's HTTP authentication and authorization, without
// any I/O: the configured URL, method, headers and body template are checked once at start-up
// (RequestTemplate::make) and turned into a request per client by substituting placeholders
// such as ${clientid}; the service's answer is read by parse_http_answer.
//
// The body template is a JSON object. Placeholders are replaced inside its string values and
// the result is serialised again, so substituted text is always correctly escaped. With the
// header `Content-Type: application/x-www-form-urlencoded` (and always for GET, where the body
// becomes the query string, as EMQX does) the object's members are sent form-encoded instead.
// Thread-safety: RequestTemplate is immutable after make(); the functions are pure.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cicada/base/expected.hpp>

#include "broker/auth/source.hpp"

namespace cicada::broker::auth {

// http://HOST[:PORT][/PATH[?QUERY]]. https is not supported yet.
struct HttpUrl {
  std::string host;
  std::uint16_t port = 80;   // 443 for https
  bool tls = false;          // https://
  std::string target = "/";  // path and query, as sent in the request line
};
Expected<HttpUrl, std::string> parse_http_url(std::string_view url);

struct HttpHeader {
  std::string name;
  std::string value;
};
// One "Name: value" per line; blank lines are skipped.
Expected<std::vector<HttpHeader>, std::string> parse_http_headers(std::string_view text);

// The values of ${name} placeholders for one request: name without "${" "}".
using Placeholders = std::vector<std::pair<std::string_view, std::string_view>>;

// `text` with every known ${name} replaced by its value; unknown placeholders stay as they are.
std::string substitute(std::string_view text, const Placeholders& values);
// application/x-www-form-urlencoded escaping of one key or value (space as %20, which every
// form decoder accepts).
std::string form_escape(std::string_view text);

enum class HttpMethod : std::uint8_t { get, post };

// A request ready for the wire, minus Host/Content-Length which the client adds.
struct HttpRequestParts {
  HttpMethod method = HttpMethod::post;
  std::string target;
  std::vector<HttpHeader> headers;
  std::string body;  // empty for GET
};

class RequestTemplate {
 public:
  // `method` is "post" or "get"; errors name what is wrong ("url: ...", "body: ...").
  static Expected<RequestTemplate, std::string> make(std::string_view url, std::string_view method,
                                                     std::string_view body,
                                                     std::string_view headers);

  HttpRequestParts render(const Placeholders& values) const;
  const HttpUrl& url() const noexcept { return url_; }

 private:
  RequestTemplate() = default;

  HttpUrl url_;
  HttpMethod method_ = HttpMethod::post;
  bool form_ = false;  // form-encoded body (or GET query) instead of JSON
  std::vector<HttpHeader> headers_;
  boost::json::object body_;
};

// The service's answer: 200 with a JSON body {"result": "allow"|"deny"|"ignore",
// "is_superuser": bool, "expire_at": Unix seconds, "acl": [rules]} (a missing or unknown
// result is ignore, as in EMQX), 204 = allow. An allow whose expire_at or acl is malformed is
// a deny (0x87): the client is not let in without the rules meant for it.
// Nullopt when the service failed: any other status, or a 200 whose body is not a JSON object;
// the step then answers ignore, or deny when it is configured fail-closed.
std::optional<AuthAnswer> parse_http_answer(unsigned status, std::string_view body);

}  // namespace cicada::broker::auth
