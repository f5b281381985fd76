// TLS for https:// authentication and authorization services: the client side's
// OpenSSL context, made once per HTTP step. The service's certificate is verified against
// the system's CAs or `cacertfile`, and its name against the URL's host (or
// `server_name`), unless `verify` is off; a client certificate is sent when the service
// asks for one and `certfile` is set. TLS 1.2 is the oldest version offered (RFC 8996).
// Thread-safety: the context is immutable once made; the HTTP thread's streams share it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include <cicada/base/expected.hpp>

namespace cicada::broker::auth {

struct HttpTlsSettings {
  bool verify = true;       // ssl.verify: verify_peer (true) or verify_none
  std::string cacertfile;   // PEM CAs; "" = the system's (OpenSSL's default paths)
  std::string certfile;     // PEM client certificate (and chain), for mutual TLS
  std::string keyfile;      // its private key
  std::string server_name;  // SNI and the name verified; "" = the URL's host
};

// Errors name the setting: "ssl.cacertfile: <file>: cannot read ...".
Expected<std::shared_ptr<boost::asio::ssl::context>, std::string> make_http_tls(
    const HttpTlsSettings& settings);

}  // namespace cicada::broker::auth
