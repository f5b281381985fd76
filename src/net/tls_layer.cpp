#include "net/tls_layer.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

namespace cicada::net {

namespace asio = boost::asio;

namespace {

// Boost's error_category has a non-virtual destructor by design (categories are
// never deleted through it).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class X509Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "x509"; }
  std::string message(int value) const override {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(value);
  }
};
#pragma GCC diagnostic pop

std::string utf8(const ASN1_STRING* text) {
  unsigned char* out = nullptr;
  const int n = ASN1_STRING_to_UTF8(&out, text);
  if (n < 0) return {};
  std::string result(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return result;
}

}  // namespace

const boost::system::error_category& x509_category() noexcept {
  static const X509Category category;
  return category;
}

TlsLayer::TlsLayer(std::shared_ptr<const TlsContext> context)
    : context_(std::move(context)), ssl_(SSL_new(context_->native())) {
  if (ssl_ != nullptr) SSL_set_accept_state(ssl_);
}

TlsLayer::~TlsLayer() {
  SSL_free(ssl_);
}

void TlsLayer::attach(Socket& socket) noexcept {
  if (attached_) return;
  attached_ = true;
  if (ssl_ == nullptr || SSL_set_fd(ssl_, socket.native_handle()) != 1) failed_ = true;
}

void TlsLayer::map_error(int r, Wait& wait, boost::system::error_code& error) {
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      wait = Wait::readable;
      error = asio::error::would_block;
      return;
    case SSL_ERROR_WANT_WRITE:
      wait = Wait::writable;
      error = asio::error::would_block;
      return;
    case SSL_ERROR_ZERO_RETURN:
      // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a plain TCP end.
      error = asio::error::eof;
      return;
    case SSL_ERROR_SYSCALL:
      failed_ = true;
      error = errno != 0 ? boost::system::error_code(errno, boost::system::system_category())
                         : boost::system::error_code(asio::error::connection_reset);
      break;
    default: {
      failed_ = true;
      // A certificate that failed verification says why better than "certificate
      // verify failed".
      const long verify = SSL_get_verify_result(ssl_);
      const unsigned long code = ERR_peek_error();
      if (!handshake_done_ && verify != X509_V_OK) {
        error = boost::system::error_code(static_cast<int>(verify), x509_category());
      } else if (code != 0) {
        error = boost::system::error_code(static_cast<int>(code), asio::error::get_ssl_category());
      } else {
        error = asio::error::connection_aborted;
      }
      break;
    }
  }
  ERR_clear_error();
}

bool TlsLayer::advance_handshake(Wait& wait, boost::system::error_code& error) {
  if (handshake_done_) return true;
  if (failed_) {
    error = asio::error::not_connected;
    return false;
  }
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    remember_peer();
    return true;
  }
  map_error(r, wait, error);
  return false;
}

void TlsLayer::remember_peer() {
  // Only a certificate the handshake verified (verify_peer) is an identity; with
  // verify_none none is asked for.
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr || SSL_get_verify_result(ssl_) != X509_V_OK ||
      (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) == 0) {
    return;
  }
  const X509_NAME* name = X509_get_subject_name(cert);
  PeerIdentity peer;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      if (n > 0) peer.subject.assign(data, static_cast<std::size_t>(n));
    }
    BIO_free(bio);
  }
  // The most specific CN when there are several: the last one.
  int index = -1;
  for (int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) {
    index = i;
  }
  if (index >= 0) {
    peer.common_name = utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  }
  peer_ = std::move(peer);
}

std::size_t TlsLayer::read_some(Socket& socket, std::span<std::uint8_t> into,
                                boost::system::error_code& error) {
  error = {};
  attach(socket);
  if (!advance_handshake(read_wait_, error)) return 0;
  if (failed_) {
    error = asio::error::not_connected;
    return 0;
  }
  ERR_clear_error();
  const int n =
      SSL_read(ssl_, into.data(), static_cast<int>(std::min<std::size_t>(into.size(), INT_MAX)));
  if (n > 0) return static_cast<std::size_t>(n);
  map_error(n, read_wait_, error);
  return 0;
}

bool TlsLayer::read_buffered() const noexcept {
  // Decrypted bytes of a record already read from the socket: the socket may never
  // become readable again for them. (Without read-ahead OpenSSL reads no further than
  // the record it needs, so undecrypted bytes stay in the socket, which signals them.)
  return ssl_ != nullptr && handshake_done_ && !failed_ && SSL_pending(ssl_) > 0;
}

std::size_t TlsLayer::write_some(Socket& socket, std::span<const iovec> buffers,
                                 boost::system::error_code& error) {
  error = {};
  attach(socket);
  if (!advance_handshake(write_wait_, error)) return 0;
  if (failed_) {
    error = asio::error::not_connected;
    return 0;
  }
  std::size_t taken = 0;
  std::size_t index = 0;   // next buffer to stage
  std::size_t offset = 0;  // bytes of it staged already
  while (true) {
    if (stage_sent_ < stage_size_) {
      // A TLS record per SSL_write, of up to 16 KiB; a retry after WANT_WRITE passes
      // the same bytes again, as OpenSSL requires.
      ERR_clear_error();
      const int n =
          SSL_write(ssl_, stage_.get() + stage_sent_, static_cast<int>(stage_size_ - stage_sent_));
      if (n > 0) {
        stage_sent_ += static_cast<std::size_t>(n);
        continue;
      }
      map_error(n, write_wait_, error);
      if (error == asio::error::would_block && taken > 0) error = {};
      return error && error != asio::error::would_block ? 0 : taken;
    }
    if (index == buffers.size()) break;
    // Gather the next bytes into the stage, so many small packets make one record.
    if (!stage_) stage_ = std::make_unique<std::uint8_t[]>(kStageBytes);
    stage_size_ = stage_sent_ = 0;
    while (index < buffers.size() && stage_size_ < kStageBytes) {
      const iovec& buffer = buffers[index];
      const std::size_t step = std::min(buffer.iov_len - offset, kStageBytes - stage_size_);
      if (step > 0) {
        std::memcpy(stage_.get() + stage_size_, static_cast<const char*>(buffer.iov_base) + offset,
                    step);
      }
      stage_size_ += step;
      offset += step;
      if (offset == buffer.iov_len) {
        ++index;
        offset = 0;
      }
    }
    taken += stage_size_;
  }
  // Everything taken is written: an idle connection keeps no stage.
  stage_.reset();
  stage_size_ = stage_sent_ = 0;
  return taken;
}

void TlsLayer::shutdown(Socket& socket) noexcept {
  attach(socket);
  // close_notify, without waiting for the peer's (the socket closes next). Not after a
  // fatal error, when OpenSSL forbids it.
  if (!handshake_done_ || failed_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace cicada::net
