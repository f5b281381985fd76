#include "net/tls_context.hpp"

#include <openssl/err.h>

#include <string>
#include <string_view>

#include <cicada/base/pem_file.hpp>

namespace cicada::net {

std::string take_openssl_errors(std::string_view fallback) {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    if (reason != nullptr) {
      out += reason;
    } else {
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof buffer);
      out += buffer;
    }
  }
  return out.empty() ? std::string(fallback) : out;
}

namespace {

// OpenSSL's pem_password_cb: the configured passphrase, or none (which fails the load).
int key_password(char* buffer, int size, int /*rwflag*/, void* userdata) {
  const auto* password = static_cast<const std::string*>(userdata);
  if (password == nullptr || password->empty() ||
      password->size() > static_cast<std::size_t>(size)) {
    return 0;
  }
  password->copy(buffer, password->size());
  return static_cast<int>(password->size());
}

// Splits EMQX-style cipher lists: names starting with "TLS_" are TLS 1.3 suites
// (SSL_CTX_set_ciphersuites), the others TLS 1.2 ciphers (SSL_CTX_set_cipher_list),
// each joined with ':' as OpenSSL wants them.
void split_ciphers(std::string_view text, std::string& tls13, std::string& tls12) {
  while (!text.empty()) {
    const auto end = text.find_first_of(",:");
    std::string_view name = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (name.empty()) continue;
    std::string& list = name.starts_with("TLS_") ? tls13 : tls12;
    if (!list.empty()) list += ':';
    list += name;
  }
}

}  // namespace

Expected<std::shared_ptr<const TlsContext>, std::string> TlsContext::make(
    const TlsOptions& options) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return unexpected("cannot create an SSL_CTX: " + take_openssl_errors());
  // Owned from here on, so every early return frees it.
  std::shared_ptr<const TlsContext> context(new TlsContext(raw));
  auto fail = [](std::string what) {
    return unexpected(std::move(what) + ": " + take_openssl_errors());
  };

  // TLS 1.0 and 1.1 are deprecated (RFC 8996): 1.2 is the floor unless raised to 1.3.
  const int min = options.min_version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(raw, min);
  // No renegotiation (a client-driven CPU cost and an old attack surface); a peer that
  // closes TCP without close_notify is an ordinary end for MQTT, not an error; the
  // server's cipher order wins.
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Partial writes and a moving buffer suit the connection's gathered, non-blocking
  // output; released buffers keep an idle TLS connection small (about 34 KiB less).
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);

  if (!options.ciphers.empty()) {
    std::string tls13, tls12;
    split_ciphers(options.ciphers, tls13, tls12);
    if (!tls13.empty() && SSL_CTX_set_ciphersuites(raw, tls13.c_str()) != 1) {
      return fail("ciphers '" + tls13 + "'");
    }
    if (!tls12.empty() && SSL_CTX_set_cipher_list(raw, tls12.c_str()) != 1) {
      return fail("ciphers '" + tls12 + "'");
    }
  }

  if (options.certfile.empty()) return unexpected(std::string("certfile is not set"));
  if (options.keyfile.empty()) return unexpected(std::string("keyfile is not set"));
  // The certificate file may carry the chain: the server certificate first, then the
  // intermediates, which are sent along so clients need only the root.
  if (SSL_CTX_use_certificate_chain_file(raw, options.certfile.c_str()) != 1) {
    return fail("certfile " + options.certfile);
  }
  // An encrypted key is opened with `password` only: OpenSSL's default would ask for a
  // passphrase on the terminal, and a broker starting as a service would hang there.
  SSL_CTX_set_default_passwd_cb(raw, &key_password);
  SSL_CTX_set_default_passwd_cb_userdata(raw, const_cast<std::string*>(&options.password));
  const int loaded = SSL_CTX_use_PrivateKey_file(raw, options.keyfile.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_default_passwd_cb_userdata(raw, nullptr);  // `options` does not outlive make()
  if (loaded != 1) {
    const bool needs_password = options.password.empty() && pem_is_encrypted(options.keyfile);
    return fail("keyfile " + options.keyfile +
                (needs_password ? " (an encrypted key needs password)" : ""));
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    return fail("keyfile " + options.keyfile + " does not belong to certfile " + options.certfile);
  }

  if (!options.cacertfile.empty()) {
    if (SSL_CTX_load_verify_locations(raw, options.cacertfile.c_str(), nullptr) != 1) {
      return fail("cacertfile " + options.cacertfile);
    }
    // Tell clients which CAs are accepted, so one with several certificates picks right.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.cacertfile.c_str())) {
      SSL_CTX_set_client_CA_list(raw, names);
    }
    ERR_clear_error();
  }
  if (options.verify_peer) {
    if (options.cacertfile.empty()) {
      return unexpected(std::string("verify = verify_peer needs a cacertfile to verify against"));
    }
    int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    if (options.fail_if_no_peer_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(raw, mode, nullptr);
    // Session resumption with client verification fails without an id context.
    static constexpr unsigned char kSessionContext[] = "cicada";
    SSL_CTX_set_session_id_context(raw, kSessionContext, sizeof kSessionContext - 1);
  } else {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  }
  return context;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

}  // namespace cicada::net
