// TlsLayer: the server side of one TLS connection, OpenSSL driven directly on the
// connection's non-blocking socket (SSL_set_fd): no extra copy of the ciphertext and
// no extra buffer besides OpenSSL's own (released while idle) and a 16 KiB staging
// buffer held only while a write is in progress. The handshake runs inside the first
// read_some / write_some calls. WANT_READ / WANT_WRITE become would_block and the
// readiness the caller must wait for (read_wants / write_wants).
// Thread-safety: single owner, the connection's worker.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "net/stream_layer.hpp"
#include "net/tls_context.hpp"

namespace cicada::net {

class TlsLayer final : public StreamLayer {
 public:
  // Largest amount of application data staged into one SSL_write: one TLS record.
  static constexpr std::size_t kStageBytes = 16 * 1024;

  explicit TlsLayer(std::shared_ptr<const TlsContext> context);
  ~TlsLayer() override;
  TlsLayer(const TlsLayer&) = delete;
  TlsLayer& operator=(const TlsLayer&) = delete;

  std::size_t read_some(Socket& socket, std::span<std::uint8_t> into,
                        boost::system::error_code& error) override;
  Wait read_wants() const noexcept override { return read_wait_; }
  bool read_buffered() const noexcept override;

  std::size_t write_some(Socket& socket, std::span<const iovec> buffers,
                         boost::system::error_code& error) override;
  Wait write_wants() const noexcept override { return write_wait_; }
  bool write_pending() const noexcept override { return stage_sent_ < stage_size_; }

  void shutdown(Socket& socket) noexcept override;

  const PeerIdentity* peer_identity() const noexcept override { return peer_ ? &*peer_ : nullptr; }
  bool handshake_done() const noexcept { return handshake_done_; }

 private:
  void attach(Socket& socket) noexcept;
  // Runs the handshake on; true once it is done. Otherwise `error` says why not
  // (would_block with `wait` set, or the failure).
  bool advance_handshake(Wait& wait, boost::system::error_code& error);
  // Maps the result `r` of an SSL call that failed.
  void map_error(int r, Wait& wait, boost::system::error_code& error);
  void remember_peer();

  std::shared_ptr<const TlsContext> context_;  // the SSL_CTX outlives its SSL
  SSL* ssl_ = nullptr;
  std::unique_ptr<std::uint8_t[]> stage_;  // only while a write is in progress
  std::size_t stage_size_ = 0;
  std::size_t stage_sent_ = 0;
  std::optional<PeerIdentity> peer_;
  Wait read_wait_ = Wait::readable;
  Wait write_wait_ = Wait::writable;
  bool attached_ = false;
  bool handshake_done_ = false;
  bool failed_ = false;  // a fatal error: no close_notify, no more calls into OpenSSL
};

// The error category of a failed certificate verification: the value is OpenSSL's
// X509_V_ERR_* code, the message its text ("certificate has expired").
const boost::system::error_category& x509_category() noexcept;

}  // namespace cicada::net
