// TLS for cicada-bench's mqtts:// connections: one OpenSSL client context per run
// (TlsClientContext) and, per connection, a TlsStream straight on its non-blocking
// socket. The stream never blocks: each call says whether it needs the socket readable
// or writable to go on, and the connection keeps its epoll interest accordingly.
// Thread-safety: the context is read-only once made and shared by every worker (OpenSSL
// contexts may be used from several threads); a stream has a single owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <cicada/base/expected.hpp>

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;

namespace cicada::bench {

struct TlsOptions {
  std::string cafile;    // trusted CAs (PEM); empty: the system's store
  std::string certfile;  // client certificate (PEM), with keyfile, for brokers that ask
  std::string keyfile;
  bool insecure = false;  // no verification of the broker's certificate or name
};

class TlsClientContext {
 public:
  // Loads the files; the error names the file and OpenSSL's reason.
  static Expected<std::shared_ptr<TlsClientContext>, std::string> make(const TlsOptions& options);
  ~TlsClientContext();
  SSL_CTX* native() const noexcept { return ctx_; }
  bool verify() const noexcept { return verify_; }

 private:
  TlsClientContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

class TlsStream {
 public:
  // What a call that did not finish waits for.
  enum class Wait : std::uint8_t { none, readable, writable, failed, closed };

  // `host`: the name (or IP address) the certificate must match and SNI carries.
  TlsStream(const TlsClientContext& context, int fd, const std::string& host);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // True once the handshake is done; otherwise `wait` says what it needs.
  bool handshake(Wait& wait);
  // Bytes read (> 0), or 0 with `wait` set (closed: the broker ended the session).
  std::size_t read(std::uint8_t* data, std::size_t size, Wait& wait);
  // Bytes taken (> 0), or 0 with `wait` set.
  std::size_t write(const std::uint8_t* data, std::size_t size, Wait& wait);
  // Decrypted bytes held inside OpenSSL that the socket will not signal again.
  bool pending() const;
  // Sends close_notify, best effort (the socket may be full; nobody waits for it).
  void close_notify();
  // Why the last call failed: OpenSSL's reason, and the verification result if any.
  std::string error() const { return error_; }

 private:
  Wait classify(int result);
  SSL* ssl_;
  std::string error_;
};

}  // namespace cicada::bench
