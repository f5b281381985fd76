// mqtts:// — MQTT over TLS (Boost.Asio SSL on OpenSSL), and the TLS context that
// mqtts:// and wss:// share.
#include <openssl/ssl.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cicada/base/pem_file.hpp>

#include "tls_session.hpp"
#include "transport.hpp"

namespace cicada::client {

namespace {

class TlsTransport final : public TransportStream {
 public:
  TlsTransport(asio::io_context& io, const ServerUri& uri, const TlsOptions& options,
               std::shared_ptr<asio::ssl::context> tls)
      : tls_(std::move(tls)), stream_(io, *tls_), host_(uri.host), insecure_(options.insecure) {}

  asio::awaitable<OpenError> open(const Endpoints& endpoints) override {
    if (auto failed = co_await connect_tcp(stream_.next_layer(), endpoints)) co_return failed;
    co_return co_await tls_handshake(stream_, host_, insecure_);
  }
  void read_some(asio::mutable_buffer buffer, Handler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  void write(asio::const_buffer buffer, Handler handler) override {
    asio::async_write(stream_, buffer, std::move(handler));
  }
  void close() override {
    boost::system::error_code ignored;
    stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
  }

 private:
  std::shared_ptr<asio::ssl::context> tls_;  // outlives the stream that uses it
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  std::string host_;
  bool insecure_;
};

}  // namespace

Expected<std::shared_ptr<asio::ssl::context>, std::string> make_tls_context(
    const TlsOptions& options) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  // TLS 1.2 is the oldest version still considered safe (RFC 8996 retires 1.0 and 1.1).
  int min_version = TLS1_2_VERSION;
  if (options.min_version == "tlsv1.3")
    min_version = TLS1_3_VERSION;
  else if (options.min_version == "tlsv1.1" || options.min_version == "tlsv1")
    return unexpected("TLS version '" + options.min_version +
                      "' is not supported: TLS 1.0 and 1.1 are deprecated (RFC 8996)");
  else if (!options.min_version.empty() && options.min_version != "tlsv1.2")
    return unexpected("unknown TLS version '" + options.min_version + "' (tlsv1.2 or tlsv1.3)");
  SSL_CTX_set_min_proto_version(context->native_handle(), min_version);
  // Both return 0 when the list selects no cipher at all.
  if (!options.ciphers.empty() &&
      SSL_CTX_set_cipher_list(context->native_handle(), options.ciphers.c_str()) != 1)
    return unexpected("no usable TLS 1.2 cipher in '" + options.ciphers + "'");
  if (!options.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(context->native_handle(), options.ciphersuites.c_str()) != 1)
    return unexpected("no usable TLS 1.3 cipher suite in '" + options.ciphersuites + "'");
  if (!options.alpn.empty()) {
    // The wire form: each name prefixed by its length (RFC 7301 3.1).
    std::string wire;
    for (const std::string& name : options.alpn) {
      if (name.empty() || name.size() > 255)
        return unexpected("ALPN protocol name '" + name + "' must be 1 to 255 bytes");
      wire.push_back(static_cast<char>(name.size()));
      wire += name;
    }
    // Returns 0 on success, unlike most of OpenSSL.
    if (SSL_CTX_set_alpn_protos(context->native_handle(),
                                reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0)
      return unexpected(std::string("cannot set the ALPN protocols"));
  }
  context->set_verify_mode(asio::ssl::verify_peer);
  boost::system::error_code ec;
  if (options.ca_file.empty() && options.ca_path.empty()) {
    context->set_default_verify_paths(ec);
    if (ec) return unexpected("cannot load the system's CA certificates: " + ec.message());
  }
  if (!options.ca_file.empty()) {
    context->load_verify_file(options.ca_file, ec);
    if (ec) return unexpected("cannot load CA file '" + options.ca_file + "': " + ec.message());
  }
  if (!options.ca_path.empty()) {
    context->add_verify_path(options.ca_path, ec);
    if (ec) return unexpected("cannot use CA path '" + options.ca_path + "': " + ec.message());
  }
  if (options.cert_file.empty() != options.key_file.empty())
    return unexpected(std::string("a client certificate needs its key and a key its certificate"));
  if (!options.cert_file.empty()) {
    context->use_certificate_chain_file(options.cert_file, ec);
    if (ec)
      return unexpected("cannot load certificate '" + options.cert_file + "': " + ec.message());
    // Our callback, not OpenSSL's terminal prompt, which would block the I/O thread.
    context->set_password_callback(
        [password = options.key_password](std::size_t max, asio::ssl::context::password_purpose) {
          return password.size() <= max ? password : std::string();
        },
        ec);
    context->use_private_key_file(options.key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return unexpected("cannot load key '" + options.key_file + "': " + ec.message() +
                        (options.key_password.empty() && pem_is_encrypted(options.key_file)
                             ? " (an encrypted key needs key_password)"
                             : ""));
    }
  }
  return context;
}

std::unique_ptr<TransportStream> make_tls_transport(asio::io_context& io, const ServerUri& uri,
                                                    const TlsOptions& options,
                                                    std::shared_ptr<asio::ssl::context> tls) {
  return std::make_unique<TlsTransport>(io, uri, options, std::move(tls));
}

}  // namespace cicada::client
