#include "listener_tls.hpp"

#include <stdexcept>

#include "net/tls_layer.hpp"

namespace cicada::broker {

net::TlsOptions tls_options(const TcpListenerConfig& config) {
  return {.certfile = config.certfile,
          .keyfile = config.keyfile,
          .password = config.password,
          .cacertfile = config.cacertfile,
          .verify_peer = config.verify == TlsVerify::verify_peer,
          .fail_if_no_peer_cert = config.fail_if_no_peer_cert,
          .min_version = config.tls_min_version == TlsMinVersion::tls1_3 ? net::TlsVersion::tls1_3
                                                                         : net::TlsVersion::tls1_2,
          .ciphers = config.ciphers};
}

ListenerTls::ListenerTls(const TcpListenerConfig& config) : config_(config), id_(config.id()) {
  if (config_.peer_cert_as_username != PeerCertAsUsername::disabled &&
      config_.verify != TlsVerify::verify_peer) {
    // Without verification there is no certificate to take a name from: every client
    // would silently lose its user name.
    throw std::runtime_error("listener " + id_ +
                             ": peer_cert_as_username needs verify = \"verify_peer\"");
  }
  auto context = net::TlsContext::make(tls_options(config_));
  if (!context) throw std::runtime_error("listener " + id_ + ": " + context.error());
  context_.store(std::move(*context));
}

std::unique_ptr<net::StreamLayer> ListenerTls::make_layer() const {
  return std::make_unique<net::TlsLayer>(context_.load());
}

Expected<void, std::string> ListenerTls::reload() {
  auto context = net::TlsContext::make(tls_options(config_));
  if (!context) return unexpected("listener " + id_ + ": " + context.error());
  context_.store(std::move(*context));
  return {};
}

}  // namespace cicada::broker
