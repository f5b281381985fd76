// The chain steps backed by files: a mosquitto_passwd password file (authentication) and
// a Mosquitto ACL file (authorization). The ACL file answers inline; so does the password
// file for a user it does not list (ignore), while a listed user's password is checked
// on a HashPool thread and answered from there (a slow hash never runs on a worker).
// Thread-safety: immutable; see source.hpp.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "broker/auth/acl_file.hpp"
#include "broker/auth/hash_pool.hpp"
#include "broker/auth/password_file.hpp"
#include "broker/auth/source.hpp"

namespace cicada::broker::auth {

class PasswordFileAuthenticator final : public Authenticator {
 public:
  // Reads the file; the error names file and line. Without a pool, one of the default
  // size is made (and kept by the reloaded copies).
  static Expected<std::shared_ptr<const Authenticator>, std::string> open(
      std::string path, std::set<std::string, std::less<>> superusers,
      std::shared_ptr<HashPool> pool = nullptr);

  std::string_view name() const noexcept override { return "password_file"; }
  void authenticate(const ConnectRequest& request,
                    std::function<void(AuthAnswer)> done) const override;
  Expected<std::shared_ptr<const Authenticator>, std::string> reloaded() const override;

  PasswordFileAuthenticator(std::string path, std::set<std::string, std::less<>> superusers,
                            std::shared_ptr<const PasswordFile> file,
                            std::shared_ptr<HashPool> pool)
      : path_(std::move(path)),
        superusers_(std::move(superusers)),
        file_(std::move(file)),
        pool_(std::move(pool)) {}

 private:
  std::string path_;
  std::set<std::string, std::less<>> superusers_;
  // Shared with the checks still running on the pool after a reload swapped it out.
  std::shared_ptr<const PasswordFile> file_;
  std::shared_ptr<HashPool> pool_;
};

class AclFileAuthorizer final : public Authorizer {
 public:
  static Expected<std::shared_ptr<const Authorizer>, std::string> open(std::string path);

  std::string_view name() const noexcept override { return "acl_file"; }
  void authorize(const AccessRequest& request, std::function<void(Verdict)> done) const override;
  Expected<std::shared_ptr<const Authorizer>, std::string> reloaded() const override;

  AclFileAuthorizer(std::string path, AclFile file)
      : path_(std::move(path)), file_(std::move(file)) {}

 private:
  std::string path_;
  AclFile file_;
};

}  // namespace cicada::broker::auth
