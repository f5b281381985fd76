// The client side of a TLS handshake, shared by mqtts:// (a TLS stream over TCP) and
// wss:// (a WebSocket over that TLS stream).
// Thread-safety: I/O thread only, like the stream it works on.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "transport.hpp"

namespace cicada::client {

// SNI, then the handshake; the certificate must chain to a trusted CA and, unless
// `insecure`, name `host` (DNS name, or IP address for an address). A failure carries
// OpenSSL's verification result when there is one.
template <class NextLayer>
boost::asio::awaitable<OpenError> tls_handshake(boost::asio::ssl::stream<NextLayer>& stream,
                                                const std::string& host, bool insecure) {
  SSL* ssl = stream.native_handle();
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  const bool is_address = !ec;
  // Server Name Indication carries host names only, never addresses (RFC 6066 section 3).
  // (SSL_set_tlsext_host_name spelled out: the macro's C cast trips -Wold-style-cast.)
  if (!is_address)
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  if (!insecure) {
    // OpenSSL checks the name during verification, so a mismatch is reported as a
    // verification error ("hostname mismatch") rather than a bare handshake failure.
    if (is_address)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    else
      SSL_set1_host(ssl, host.c_str());
  }
  ec = {};
  co_await stream.async_handshake(boost::asio::ssl::stream_base::client,
                                  boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  if (!ec) co_return OpenError{};
  const long result = SSL_get_verify_result(ssl);
  co_return OpenError{ec,
                      result != X509_V_OK
                          ? std::string("TLS handshake failed: certificate verify failed: ") +
                                X509_verify_cert_error_string(result)
                          : "TLS handshake failed: " + ec.message(),
                      true};
}

}  // namespace cicada::client
