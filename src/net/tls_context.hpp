// TlsContext: the server side of TLS for one listener: an OpenSSL SSL_CTX built from
// the listener's certificate, key, CA and verification settings. Immutable once made;
// a SIGHUP reload makes a new one for new connections while the connections already
// open keep the one they were made with (each TlsLayer holds a reference).
// Thread-safety: immutable after make(); any thread may create TlsLayers from it.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include <cicada/base/expected.hpp>

namespace cicada::net {

enum class TlsVersion { tls1_2, tls1_3 };

struct TlsOptions {
  std::string certfile;      // PEM: the server certificate, then any intermediates (its chain)
  std::string keyfile;       // PEM: its private key, encrypted or not
  std::string password;      // the key's passphrase when it is encrypted
  std::string cacertfile;    // PEM: the CAs client certificates must chain to; "" = none
  bool verify_peer = false;  // ask for a client certificate and verify it
  bool fail_if_no_peer_cert = false;  // verify_peer: refuse a client that sends none
  TlsVersion min_version = TlsVersion::tls1_2;
  // OpenSSL names separated by ',' or ':'; TLS 1.3 suites (TLS_AES_128_GCM_SHA256 ...)
  // and TLS 1.2 ciphers (ECDHE-RSA-AES128-GCM-SHA256 ...) may be mixed, as in EMQX.
  // "" = OpenSSL's defaults.
  std::string ciphers;
};

class TlsContext {
 public:
  // Reads the files and checks that they fit together. The error names the file or
  // the setting and gives OpenSSL's reason ("certfile /etc/x.pem: No such file or
  // directory"); start-up turns it into an exception, a reload logs it.
  static Expected<std::shared_ptr<const TlsContext>, std::string> make(const TlsOptions& options);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const noexcept { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// The reasons OpenSSL queued on this thread, oldest first, joined by "; " (and the
// queue emptied); `fallback` when it queued none.
std::string take_openssl_errors(std::string_view fallback = "unknown OpenSSL error");

}  // namespace cicada::net
