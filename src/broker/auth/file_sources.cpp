#include "broker/auth/file_sources.hpp"

namespace cicada::broker::auth {

Expected<std::shared_ptr<const Authenticator>, std::string> PasswordFileAuthenticator::open(
    std::string path, std::set<std::string, std::less<>> superusers) {
  auto file = PasswordFile::load(path);
  if (!file) return unexpected(file.error());
  return std::shared_ptr<const Authenticator>(std::make_shared<PasswordFileAuthenticator>(
      std::move(path), std::move(superusers), std::move(*file)));
}

void PasswordFileAuthenticator::authenticate(const ConnectRequest& request,
                                             std::function<void(AuthAnswer)> done) const {
  if (!request.username) return done(AuthAnswer{});
  const Verdict verdict = file_.authenticate(*request.username, request.password);
  done(AuthAnswer{
      .verdict = verdict,
      .superuser = verdict == Verdict::allow && superusers_.contains(*request.username)});
}

bool PasswordFileAuthenticator::is_superuser(std::string_view username) const {
  // Only a user this file knows: anyone else connected without proving the name.
  return superusers_.contains(username) && file_.contains(username);
}

Expected<std::shared_ptr<const Authenticator>, std::string> PasswordFileAuthenticator::reloaded()
    const {
  return open(path_, superusers_);
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
