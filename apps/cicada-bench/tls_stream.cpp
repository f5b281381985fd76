#include "tls_stream.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

namespace cicada::bench {
namespace {

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Expected<std::shared_ptr<TlsClientContext>, std::string> TlsClientContext::make(
    const TlsOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return unexpected("TLS: " + openssl_reason());
  std::shared_ptr<TlsClientContext> out(new TlsClientContext(ctx, !options.insecure));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A broker that closes the TCP connection after DISCONNECT without close_notify is
  // normal for MQTT: read it as the end of the stream, not as an error.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Output is a growing buffer consumed from its front: a retried write may see it
  // moved and longer, and a write may take part of it.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (!options.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    const bool loaded = options.cafile.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                               : SSL_CTX_load_verify_locations(
                                                     ctx, options.cafile.c_str(), nullptr) == 1;
    if (!loaded) {
      return unexpected("--cafile " + (options.cafile.empty() ? "(system store)" : options.cafile) +
                        ": " + openssl_reason());
    }
  }
  if (!options.certfile.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.certfile.c_str()) != 1) {
      return unexpected("--cert " + options.certfile + ": " + openssl_reason());
    }
    const std::string& key = options.keyfile.empty() ? options.certfile : options.keyfile;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return unexpected("--key " + key + ": " + openssl_reason());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return unexpected("--key " + key + " does not match --cert " + options.certfile);
    }
  }
  return Expected<std::shared_ptr<TlsClientContext>, std::string>{std::move(out)};
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

TlsStream::TlsStream(const TlsClientContext& context, int fd, const std::string& host)
    : ssl_(SSL_new(context.native())) {
  SSL_set_fd(ssl_, fd);
  SSL_set_connect_state(ssl_);
  in6_addr address{};
  const bool ip = ::inet_pton(AF_INET, host.c_str(), &address) == 1 ||
                  ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
  // SNI carries names only (RFC 6066 section 3); an address is checked as one.
  // (SSL_set_tlsext_host_name spelled out: the macro's C cast trips -Wold-style-cast.)
  if (!ip) {
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  }
  if (context.verify()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
  }
}

TlsStream::~TlsStream() {
  SSL_free(ssl_);
}

TlsStream::Wait TlsStream::classify(int result) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return Wait::readable;
    case SSL_ERROR_WANT_WRITE:
      return Wait::writable;
    case SSL_ERROR_ZERO_RETURN:
      return Wait::closed;
    case SSL_ERROR_SYSCALL:
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Wait::readable;
      error_ = errno != 0 ? std::strerror(errno) : "connection closed";
      ERR_clear_error();
      return errno != 0 ? Wait::failed : Wait::closed;
    default: {
      error_ = openssl_reason();
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        error_ += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      }
      return Wait::failed;
    }
  }
}

bool TlsStream::handshake(Wait& wait) {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    wait = Wait::none;
    return true;
  }
  wait = classify(result);
  return false;
}

std::size_t TlsStream::read(std::uint8_t* data, std::size_t size, Wait& wait) {
  ERR_clear_error();
  std::size_t n = 0;
  if (SSL_read_ex(ssl_, data, size, &n) == 1) {
    wait = Wait::none;
    return n;
  }
  wait = classify(0);
  return 0;
}

std::size_t TlsStream::write(const std::uint8_t* data, std::size_t size, Wait& wait) {
  ERR_clear_error();
  std::size_t n = 0;
  if (SSL_write_ex(ssl_, data, size, &n) == 1) {
    wait = Wait::none;
    return n;
  }
  wait = classify(0);
  return 0;
}

bool TlsStream::pending() const {
  return SSL_pending(ssl_) > 0;
}

void TlsStream::close_notify() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace cicada::bench
