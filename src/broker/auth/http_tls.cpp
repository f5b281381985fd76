#include "broker/auth/http_tls.hpp"

#include <boost/system/error_code.hpp>

namespace cicada::broker::auth {
namespace ssl = boost::asio::ssl;

Expected<std::shared_ptr<ssl::context>, std::string> make_http_tls(
    const HttpTlsSettings& settings) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code error;
  const auto failed = [&error](std::string_view key, const std::string& file) {
    return unexpected(std::string(key) + ": " + file + ": " + error.message());
  };
  // TLS 1.0 and 1.1 are never offered (RFC 8996), as on the broker's own listeners.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       error);
  if (settings.cacertfile.empty()) {
    context->set_default_verify_paths(error);
    if (error) return unexpected("ssl.cacertfile: the system's CAs: " + error.message());
  } else if (context->load_verify_file(settings.cacertfile, error); error) {
    return failed("ssl.cacertfile", settings.cacertfile);
  }
  context->set_verify_mode(settings.verify ? ssl::verify_peer : ssl::verify_none, error);
  if (settings.certfile.empty() != settings.keyfile.empty()) {
    return unexpected(std::string(settings.certfile.empty() ? "ssl.certfile" : "ssl.keyfile") +
                      ": a client certificate needs both ssl.certfile and ssl.keyfile");
  }
  if (!settings.certfile.empty()) {
    if (context->use_certificate_chain_file(settings.certfile, error); error) {
      return failed("ssl.certfile", settings.certfile);
    }
    if (context->use_private_key_file(settings.keyfile, ssl::context::pem, error); error) {
      return failed("ssl.keyfile", settings.keyfile);
    }
  }
  return context;
}

}  // namespace cicada::broker::auth
