#include "broker/auth/file_sources.hpp"

#include <openssl/crypto.h>

namespace cicada::broker::auth {

Expected<std::shared_ptr<const Authenticator>, std::string> PasswordFileAuthenticator::open(
    std::string path, std::set<std::string, std::less<>> superusers,
    std::shared_ptr<HashPool> pool) {
  auto file = PasswordFile::load(path);
  if (!file) return unexpected(file.error());
  if (!pool) {
    pool = std::make_shared<HashPool>(HashPool::default_threads(), HashPool::kDefaultMaxPending);
  }
  return std::shared_ptr<const Authenticator>(std::make_shared<PasswordFileAuthenticator>(
      std::move(path), std::move(superusers),
      std::make_shared<const PasswordFile>(std::move(*file)), std::move(pool)));
}

void PasswordFileAuthenticator::authenticate(const ConnectRequest& request,
                                             std::function<void(AuthAnswer)> done) const {
  // Users the file does not list cost nothing: answered here, on the caller's thread.
  if (!request.username || !file_->contains(*request.username)) return done(AuthAnswer{});
  const bool superuser = superusers_.contains(*request.username);
  // `done` is kept out of the job until it is queued, so a refusal can still use it.
  auto answer = std::make_shared<std::function<void(AuthAnswer)>>(std::move(done));
  const bool queued = pool_->submit([file = file_, username = *request.username,
                                     password = request.password, superuser, answer] {
    const Verdict verdict = file->authenticate(username, password);
    // The hash allocated OpenSSL's per-thread state: released before answering (a hash
    // costs far more than setting it up again). The pool's last owner may be this job's
    // callback, and then this thread leaves detached (hash_pool.hpp), possibly after the
    // process has begun to exit, too late to free it.
    OPENSSL_thread_stop();
    (*answer)(AuthAnswer{.verdict = verdict, .superuser = verdict == Verdict::allow && superuser});
  });
  if (!queued) {
    // Too many checks already wait: refused at once, and cheaply (MQTT 5 0x89 Server
    // busy; 3.1.1 return code 3, Server unavailable).
    (*answer)(AuthAnswer{.verdict = Verdict::deny, .deny_reason = codec::ReasonCode::server_busy});
  }
}

Expected<std::shared_ptr<const Authenticator>, std::string> PasswordFileAuthenticator::reloaded()
    const {
  return open(path_, superusers_, pool_);
}

Expected<std::shared_ptr<const Authorizer>, std::string> AclFileAuthorizer::open(std::string path) {
  auto file = AclFile::load(path);
  if (!file) return unexpected(file.error());
  return std::shared_ptr<const Authorizer>(
      std::make_shared<AclFileAuthorizer>(std::move(path), std::move(*file)));
}

void AclFileAuthorizer::authorize(const AccessRequest& request,
                                  std::function<void(Verdict)> done) const {
  done(file_.check(request));
}

Expected<std::shared_ptr<const Authorizer>, std::string> AclFileAuthorizer::reloaded() const {
  return open(path_);
}

}  // namespace cicada::broker::auth
