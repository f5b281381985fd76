#include "broker/auth/http_sources.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <string_view>

namespace cicada::broker::auth {

Expected<std::shared_ptr<const HttpStep>, std::string> HttpStep::make(
    std::shared_ptr<HttpThread> thread, const HttpStepSettings& settings) {
  auto request =
      RequestTemplate::make(settings.url, settings.method, settings.body, settings.headers);
  if (!request) return unexpected(std::move(request.error()));
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (request->url().tls) {
    auto made = make_http_tls(settings.tls);
    if (!made) return unexpected(std::move(made.error()));
    tls = std::move(*made);
  }
  auto client = std::make_shared<HttpClient>(
      *thread, HttpClientSettings{.host = request->url().host,
                                  .port = request->url().port,
                                  .tls = std::move(tls),
                                  .server_name = settings.tls.server_name,
                                  .pool_size = settings.pool_size,
                                  .connect_timeout = settings.connect_timeout,
                                  .request_timeout = settings.request_timeout});
  std::shared_ptr<AnswerCache> cache;
  if (settings.cache_ttl.count() > 0) {
    cache = std::make_shared<AnswerCache>(settings.cache_max_entries, settings.cache_max_bytes,
                                          settings.cache_ttl);
  }
  return std::shared_ptr<const HttpStep>(
      std::make_shared<HttpStep>(std::move(thread), std::move(client), std::move(*request),
                                 settings.fail_closed, settings.section, std::move(cache)));
}

namespace {

// The cache key: a SHA-256 of what the service would be asked, so the cache holds no
// passwords and every key is 32 bytes.
std::string cache_key(const HttpRequestParts& parts) {
  std::string input = parts.target;
  input.push_back('\0');
  input += parts.body;
  std::string digest(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), reinterpret_cast<unsigned char*>(digest.data()), &size,
             EVP_sha256(), nullptr);
  digest.resize(size);
  return digest;
}

}  // namespace

void HttpStep::ask(const Placeholders& values, std::function<void(AuthAnswer)> done) const {
  HttpRequestParts parts = request.render(values);
  std::string key;
  if (cache) {
    key = cache_key(parts);
    if (auto hit = cache->find(key, AnswerCache::Clock::now())) return done(std::move(*hit));
  }
  // The callback holds no reference to the step: a pending request must not keep the HTTP
  // thread (which the step owns) alive. The cache keeps only what the service answered;
  // a failure is asked again next time.
  client->send(
      std::move(parts), [fail_closed = fail_closed, cache = cache, key = std::move(key),
                         where = section + (request.url().tls ? ": https://" : ": http://") +
                                 request.url().host + ":" + std::to_string(request.url().port),
                         done = std::move(done)](HttpResponse response) {
        if (auto answer = parse_http_answer(response.status, response.body)) {
          if (cache) cache->insert(key, *answer, AnswerCache::Clock::now());
          return done(*answer);
        }
        // Logged on the HTTP thread, never on a worker; the request (it may hold a password) is
        // not quoted.
        if (response.status == 0) {
          spdlog::warn("{}: {}", where, response.error);
        } else {
          spdlog::warn("{}: answered status {}{}", where, response.status,
                       response.status == 200 ? " with a body that is not a JSON object" : "");
        }
        done(AuthAnswer{.verdict = fail_closed ? Verdict::deny : Verdict::ignore,
                        .deny_reason = codec::ReasonCode::not_authorized});
      });
}

void HttpAuthenticator::authenticate(const ConnectRequest& request,
                                     std::function<void(AuthAnswer)> done) const {
  // The broker gives "ADDRESS:PORT" (IPv6 without brackets); ${peerhost} is the address,
  // ${peerport} the port.
  const auto [peer_host, peer_port] = split_peer(request.peer_host);
  // Empty unless the client presented a certificate that an ssl listener verified.
  const Placeholders values{
      {"clientid", request.client_id},
      {"username", request.username ? std::string_view(*request.username) : std::string_view()},
      {"password", request.password ? std::string_view(*request.password) : std::string_view()},
      {"peerhost", peer_host},
      {"peerport", peer_port},
      {"cert_subject", request.cert_subject},
      {"cert_common_name", request.cert_common_name},
  };
  step_->ask(values, std::move(done));
}

void HttpAuthorizer::authorize(const AccessRequest& request,
                               std::function<void(Verdict)> done) const {
  const std::string qos = std::to_string(request.qos);
  // Formatted here, for the HTTP service only (an unknown peer, port 0, stays empty).
  const bool known = request.peer.port() != 0;
  const std::string peer_host = known ? request.peer.address().to_string() : std::string();
  const std::string peer_port = known ? std::to_string(request.peer.port()) : std::string();
  const Placeholders values{
      {"clientid", request.client_id},
      {"peerhost", peer_host},
      {"peerport", peer_port},
      {"username", request.username ? std::string_view(*request.username) : std::string_view()},
      {"topic", request.topic},
      {"action", request.action == Action::publish ? "publish" : "subscribe"},
      {"qos", qos},
      {"retain", request.retain ? "true" : "false"},
  };
  step_->ask(values, [done = std::move(done)](AuthAnswer answer) { done(answer.verdict); });
}

}  // namespace cicada::broker::auth
