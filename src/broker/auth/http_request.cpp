#include "broker/auth/http_request.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <charconv>

#include "broker/auth/client_rules.hpp"
#include "broker/auth/text_lines.hpp"

namespace cicada::broker::auth {
namespace json = boost::json;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Placeholders inside every string of a JSON value; keys stay as written.
void substitute_in(json::value& value, const Placeholders& values) {
  if (auto* text = value.if_string()) {
    *text = substitute(*text, values);
  } else if (auto* object = value.if_object()) {
    for (auto& member : *object)
      substitute_in(member.value(), values);
  } else if (auto* array = value.if_array()) {
    for (auto& element : *array)
      substitute_in(element, values);
  }
}

std::string form_encode(const json::object& object) {
  std::string out;
  for (const auto& member : object) {
    if (!out.empty()) out += '&';
    out += form_escape(member.key());
    out += '=';
    const json::value& value = member.value();
    out +=
        value.is_string() ? form_escape(value.get_string()) : form_escape(json::serialize(value));
  }
  return out;
}

}  // namespace

Expected<HttpUrl, std::string> parse_http_url(std::string_view url) {
  // Hand-parsed rather than with Boost.URL: only http(s)://host[:port][/target] is accepted,
  // and Boost.URL would have to be compiled into this library a second time (see src/client).
  HttpUrl result;
  if (url.starts_with("https://")) {
    result.tls = true;
    result.port = 443;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return unexpected(std::string("expected http://HOST[:PORT]/PATH or https://..."));
  }
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    result.target = std::string(url.substr(slash));
    if (result.target.front() == '?') result.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos) {
    return unexpected(std::string("user information in the URL is not supported; use headers"));
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return unexpected(std::string("unclosed [ in host"));
    host = authority.substr(1, close - 1);
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return unexpected(std::string("expected :PORT after ]"));
      port = rest.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return unexpected(std::string("no host"));
  result.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return unexpected("bad port '" + std::string(port) + "'");
    }
    result.port = static_cast<std::uint16_t>(value);
  }
  return result;
}

Expected<std::vector<HttpHeader>, std::string> parse_http_headers(std::string_view text) {
  std::vector<HttpHeader> headers;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view line = trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.empty()) continue;
    const auto colon = line.find(':');
    const std::string_view name =
        colon == std::string_view::npos ? "" : trim(line.substr(0, colon));
    if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
      return unexpected("expected 'Name: value', got '" + std::string(line) + "'");
    }
    headers.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
  }
  return headers;
}

std::string substitute(std::string_view text, const Placeholders& values) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto open = text.find("${");
    if (open == std::string_view::npos) break;
    const auto close = text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    out += text.substr(0, open);
    const std::string_view name = text.substr(open + 2, close - open - 2);
    const auto it = std::find_if(values.begin(), values.end(),
                                 [&](const auto& entry) { return entry.first == name; });
    if (it != values.end()) {
      out += it->second;
    } else {
      out += text.substr(open, close - open + 1);
    }
    text.remove_prefix(close + 1);
  }
  out += text;
  return out;
}

std::string form_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

Expected<RequestTemplate, std::string> RequestTemplate::make(std::string_view url,
                                                             std::string_view method,
                                                             std::string_view body,
                                                             std::string_view headers) {
  RequestTemplate result;
  auto parsed_url = parse_http_url(url);
  if (!parsed_url) return unexpected("url: " + parsed_url.error());
  result.url_ = std::move(*parsed_url);
  if (method == "post") {
    result.method_ = HttpMethod::post;
  } else if (method == "get") {
    result.method_ = HttpMethod::get;
  } else {
    return unexpected("method: expected post or get, got '" + std::string(method) + "'");
  }
  auto parsed_headers = parse_http_headers(headers);
  if (!parsed_headers) return unexpected("headers: " + parsed_headers.error());
  result.headers_ = std::move(*parsed_headers);
  bool has_content_type = false;
  for (const HttpHeader& header : result.headers_) {
    if (!iequals(header.name, "content-type")) continue;
    has_content_type = true;
    result.form_ = header.value.starts_with("application/x-www-form-urlencoded");
  }
  if (result.method_ == HttpMethod::post && !has_content_type) {
    result.headers_.push_back({"Content-Type", "application/json"});
  }
  if (result.method_ == HttpMethod::get) result.form_ = true;
  if (!body.empty()) {
    boost::system::error_code error;
    json::value value = json::parse(body, error);
    if (error) return unexpected("body: not JSON: " + error.message());
    if (!value.is_object()) return unexpected(std::string("body: expected a JSON object"));
    result.body_ = std::move(value.get_object());
  }
  return result;
}

HttpRequestParts RequestTemplate::render(const Placeholders& values) const {
  HttpRequestParts parts{.method = method_, .headers = headers_};
  // Placeholders in the URL are percent-encoded: they may sit in the path or the query.
  Placeholders escaped;
  std::vector<std::string> storage;
  storage.reserve(values.size());
  for (const auto& [name, value] : values) {
    storage.push_back(form_escape(value));
    escaped.emplace_back(name, storage.back());
  }
  parts.target = substitute(url_.target, escaped);
  json::value body = body_;
  substitute_in(body, values);
  if (method_ == HttpMethod::get) {
    if (!body.get_object().empty()) {
      parts.target += parts.target.find('?') == std::string::npos ? '?' : '&';
      parts.target += form_encode(body.get_object());
    }
  } else if (form_) {
    parts.body = form_encode(body.get_object());
  } else {
    parts.body = json::serialize(body);
  }
  return parts;
}

std::optional<AuthAnswer> parse_http_answer(unsigned status, std::string_view body) {
  if (status == 204) return AuthAnswer{.verdict = Verdict::allow};
  if (status != 200) return std::nullopt;
  boost::system::error_code error;
  const json::value value = json::parse(body, error);
  if (error || !value.is_object()) return std::nullopt;
  const json::object& object = value.get_object();
  AuthAnswer answer{.verdict = Verdict::ignore, .deny_reason = codec::ReasonCode::not_authorized};
  if (const auto* result = object.if_contains("result"); result && result->is_string()) {
    const std::string_view text = result->get_string();
    if (text == "allow") answer.verdict = Verdict::allow;
    if (text == "deny") answer.verdict = Verdict::deny;
  }
  if (const auto* superuser = object.if_contains("is_superuser"); superuser) {
    // EMQX also accepts the strings "true"/"false" here.
    answer.superuser = superuser->is_bool()
                           ? superuser->get_bool()
                           : superuser->is_string() && superuser->get_string() == "true";
  }
  if (answer.verdict != Verdict::allow) {
    answer.superuser = false;
    return answer;
  }
  // EMQX 5.8: `expire_at` (Unix seconds) ends the connection then, `acl` is this client's
  // own rules. A service that grants with rules it got wrong is not half-trusted: EMQX's
  // emqx_authn_http answers such a body (a bad acl rule, an expire_at that is not an
  // integer) with bad_username_or_password, 0x86, and so does Cicada.
  const AuthAnswer refused{.verdict = Verdict::deny,
                           .deny_reason = codec::ReasonCode::bad_user_name_or_password};
  ClientAuth client;
  if (const auto* expire_at = object.if_contains("expire_at")) {
    if (!expire_at->is_int64()) return refused;
    client.expire_at = expire_at->get_int64();
  }
  if (const auto* acl = object.if_contains("acl")) {
    auto rules = parse_client_rules(*acl);
    if (!rules) return refused;
    client.rules = std::move(*rules);
  }
  if (client.expire_at || !client.rules.empty()) {
    answer.client = std::make_shared<const ClientAuth>(std::move(client));
  }
  return answer;
}

}  // namespace cicada::broker::auth
