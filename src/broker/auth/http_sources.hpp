// The chain steps backed by an HTTP service in EMQX's format (http_request.hpp): an
// authenticator asked at CONNECT and an authorizer asked at PUBLISH and SUBSCRIBE. They answer
// later, on the HTTP thread (http_client.hpp). A service that fails (no connection, timeout,
// a status other than 200/204, a body that is not JSON) makes the step answer ignore, or deny
// when it is fail-closed.
// Thread-safety: immutable; see source.hpp. Requests are handed to the HTTP thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "broker/auth/answer_cache.hpp"
#include "broker/auth/http_client.hpp"
#include "broker/auth/http_request.hpp"
#include "broker/auth/http_tls.hpp"
#include "broker/auth/source.hpp"

namespace cicada::broker::auth {

struct HttpStepSettings {
  std::string url;
  std::string method = "post";
  std::string body;
  std::string headers;
  std::chrono::milliseconds request_timeout{5'000};
  std::chrono::milliseconds connect_timeout{15'000};
  std::size_t pool_size = 8;
  bool fail_closed = false;
  std::string section = "auth.http";  // names the step in log lines
  // The answer cache (answer_cache.hpp); a ttl of 0 turns it off.
  std::chrono::milliseconds cache_ttl{0};
  std::size_t cache_max_entries = 100'000;
  std::size_t cache_max_bytes = 100u << 20;
  HttpTlsSettings tls;  // https:// URLs only
};

// The template and client that one authenticator or authorizer shares with its reloaded copies.
struct HttpStep {
  HttpStep(std::shared_ptr<HttpThread> thread_in, std::shared_ptr<HttpClient> client_in,
           RequestTemplate request_in, bool fail_closed_in, std::string section_in,
           std::shared_ptr<AnswerCache> cache_in = nullptr)
      : thread(std::move(thread_in)),
        client(std::move(client_in)),
        request(std::move(request_in)),
        fail_closed(fail_closed_in),
        section(std::move(section_in)),
        cache(std::move(cache_in)) {}

  std::shared_ptr<HttpThread> thread;  // declared first: it outlives the client
  std::shared_ptr<HttpClient> client;
  RequestTemplate request;
  bool fail_closed = false;
  std::string section;
  std::shared_ptr<AnswerCache> cache;  // null: every request goes to the service

  // Errors name the bad setting ("url: ...").
  static Expected<std::shared_ptr<const HttpStep>, std::string> make(
      std::shared_ptr<HttpThread> thread, const HttpStepSettings& settings);
  // The service's verdict, or the failure verdict.
  void ask(const Placeholders& values, std::function<void(AuthAnswer)> done) const;
};

class HttpAuthenticator final : public Authenticator {
 public:
  explicit HttpAuthenticator(std::shared_ptr<const HttpStep> step) : step_(std::move(step)) {}

  std::string_view name() const noexcept override { return "http"; }
  void authenticate(const ConnectRequest& request,
                    std::function<void(AuthAnswer)> done) const override;
  // is_superuser in the answer reaches authorization through the connection
  // (AccessRequest::superuser), not through a lookup by user name.
  // Nothing to reread: the same step.
  Expected<std::shared_ptr<const Authenticator>, std::string> reloaded() const override {
    return std::shared_ptr<const Authenticator>(std::make_shared<HttpAuthenticator>(step_));
  }

 private:
  std::shared_ptr<const HttpStep> step_;
};

class HttpAuthorizer final : public Authorizer {
 public:
  explicit HttpAuthorizer(std::shared_ptr<const HttpStep> step) : step_(std::move(step)) {}

  std::string_view name() const noexcept override { return "http"; }
  void authorize(const AccessRequest& request, std::function<void(Verdict)> done) const override;
  Expected<std::shared_ptr<const Authorizer>, std::string> reloaded() const override {
    return std::shared_ptr<const Authorizer>(std::make_shared<HttpAuthorizer>(step_));
  }

 private:
  std::shared_ptr<const HttpStep> step_;
};

}  // namespace cicada::broker::auth
