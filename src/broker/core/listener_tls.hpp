// ListenerTls: the TLS side of one [listeners.ssl.NAME] listener: its current
// TlsContext, which SIGHUP replaces with one built from the files as they are now.
// Connections take the context current when they are accepted and keep it, so a reload
// never touches a connection that is already open.
// Thread-safety: context() from any worker, reload() from the main thread; the swap is
// an atomic shared_ptr.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "../config/config.hpp"
#include "net/stream_layer.hpp"
#include "net/tls_context.hpp"

namespace cicada::broker {

// The net::TlsOptions of an ssl listener's configuration.
net::TlsOptions tls_options(const TcpListenerConfig& config);

class ListenerTls {
 public:
  // Throws std::runtime_error "listener ssl:NAME: certfile ...: <OpenSSL reason>" when
  // the files do not make a context (start-up errors are exceptions, STYLE.md 2).
  explicit ListenerTls(const TcpListenerConfig& config);

  // A new TLS layer for a connection just accepted.
  std::unique_ptr<net::StreamLayer> make_layer() const;

  // Rereads certfile, keyfile and cacertfile. On failure the previous context stays in
  // use and the error says why.
  Expected<void, std::string> reload();

  const std::string& id() const noexcept { return id_; }

 private:
  TcpListenerConfig config_;
  std::string id_;
  std::atomic<std::shared_ptr<const net::TlsContext>> context_;
};

}  // namespace cicada::broker
