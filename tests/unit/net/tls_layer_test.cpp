// TlsLayer against Asio's ssl::stream as the client, over loopback on one io_context:
// the server side is driven as the broker's connection drives it (wait for the
// readiness the layer asks for, then call it again).
#include "net/tls_layer.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/tls_context.hpp"
#include "tls_test_certs.hpp"

namespace cicada::net {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using testing::test_certs;

TlsOptions server_options() {
  const auto& c = test_certs();
  return {.certfile = c.path("server.crt"), .keyfile = c.path("server.key")};
}

TlsOptions mutual_options(bool fail_if_no_peer_cert) {
  TlsOptions o = server_options();
  o.cacertfile = test_certs().path("ca.crt");
  o.verify_peer = true;
  o.fail_if_no_peer_cert = fail_if_no_peer_cert;
  return o;
}

std::string pattern(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 131 + seed) % 251);
  return s;
}

tcp::socket::wait_type wait_for(StreamLayer::Wait wait) {
  return wait == StreamLayer::Wait::readable ? tcp::socket::wait_read : tcp::socket::wait_write;
}

// One accepted server socket with a TlsLayer, and an Asio TLS client connected to it.
struct Pair {
  asio::io_context io{1};
  Socket server{io};
  ssl::context client_context{ssl::context::tls_client};
  std::optional<ssl::stream<tcp::socket>> client;
  std::optional<TlsLayer> layer;

  explicit Pair(const TlsOptions& options, const std::string& client_cert = "") {
    ::signal(SIGPIPE, SIG_IGN);
    auto context = TlsContext::make(options);
    EXPECT_TRUE(context.has_value()) << (context ? "" : context.error());
    if (!context) return;
    layer.emplace(*context);
    client_context.load_verify_file(test_certs().path("ca.crt"));
    client_context.set_verify_mode(ssl::verify_peer);
    if (!client_cert.empty()) {
      client_context.use_certificate_chain_file(test_certs().path(client_cert + ".crt"));
      client_context.use_private_key_file(test_certs().path(client_cert + ".key"),
                                          ssl::context::pem);
    }
    client.emplace(io, client_context);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client->next_layer().connect(acceptor.local_endpoint());
    acceptor.accept(server);
    server.non_blocking(true);
  }
};

// Reads through the layer until `want` bytes or an error, waiting as it asks.
struct ServerReader {
  Pair& pair;
  std::size_t want;
  std::size_t chunk = 4096;
  std::string received;
  error_code error;
  int waits = 0;

  void run() {
    while (received.size() < want) {
      std::vector<std::uint8_t> buffer(chunk);
      error_code e;
      const std::size_t n = pair.layer->read_some(pair.server, buffer, e);
      if (n > 0) {
        received.append(reinterpret_cast<const char*>(buffer.data()), n);
        continue;
      }
      if (e == asio::error::would_block) {
        ++waits;
        pair.server.async_wait(wait_for(pair.layer->read_wants()),
                               [this](const error_code&) { run(); });
        return;
      }
      error = e;
      return;
    }
  }
};

// Writes `data` through the layer as gathered writes of uneven iovecs.
struct ServerWriter {
  Pair& pair;
  std::string data;
  std::size_t taken = 0;
  error_code error;
  int waits = 0;

  void run() {
    while (taken < data.size() || pair.layer->write_pending()) {
      std::vector<iovec> iov;
      std::size_t at = taken;
      for (std::size_t size : {7u, 70'000u, 1u, 30'000u}) {
        if (at == data.size()) break;
        const std::size_t n = std::min(size, data.size() - at);
        iov.push_back({const_cast<char*>(data.data() + at), n});
        at += n;
      }
      error_code e;
      const std::size_t n = pair.layer->write_some(pair.server, iov, e);
      taken += n;
      if (e && e != asio::error::would_block) {
        error = e;
        return;
      }
      if (e == asio::error::would_block || pair.layer->write_pending()) {
        ++waits;
        pair.server.async_wait(wait_for(pair.layer->write_wants()),
                               [this](const error_code&) { run(); });
        return;
      }
    }
  }
};

// Runs the handshake from both ends until both are through it, or one failed; the
// reader may stay waiting for application data.
void handshake(Pair& pair, error_code& client_error, ServerReader& reader) {
  bool client_done = false;
  pair.client->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
    client_error = e;
    client_done = true;
  });
  asio::post(pair.io, [&] { reader.run(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         !(client_done && (pair.layer->handshake_done() || reader.error))) {
    pair.io.run_one_for(std::chrono::milliseconds(100));
  }
  pair.io.restart();
}

TEST(TlsLayer, HandshakeThenBothDirections) {
  Pair pair(server_options());
  ASSERT_TRUE(pair.layer);
  error_code client_error;
  ServerReader reader{pair, 5};
  pair.client->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
    client_error = e;
    if (!e) asio::write(*pair.client, asio::buffer(std::string("hello")));
  });
  asio::post(pair.io, [&] { reader.run(); });
  pair.io.run_for(std::chrono::seconds(20));
  ASSERT_FALSE(client_error) << client_error.message();
  ASSERT_FALSE(reader.error) << reader.error.message();
  EXPECT_EQ(reader.received, "hello");
  EXPECT_TRUE(pair.layer->handshake_done());
  EXPECT_EQ(pair.layer->peer_identity(), nullptr);  // verify_none asks for no certificate

  std::string a = "wor", b = "ld!";
  iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
  error_code e;
  EXPECT_EQ(pair.layer->write_some(pair.server, iov, e), 6u);
  EXPECT_FALSE(e);
  EXPECT_FALSE(pair.layer->write_pending());
  std::string answer(6, '\0');
  asio::read(*pair.client, asio::buffer(answer));
  EXPECT_EQ(answer, "world!");
}

TEST(TlsLayer, OneMebibyteBothWaysThroughSmallSocketBuffers) {
  Pair pair(server_options());
  ASSERT_TRUE(pair.layer);
  // Small kernel buffers: the layer's writes go out in parts, and must wait.
  pair.server.set_option(asio::socket_base::send_buffer_size(8192));
  pair.client->next_layer().set_option(asio::socket_base::receive_buffer_size(8192));
  const std::size_t size = 1 << 20;
  const std::string up = pattern(size, 1), down = pattern(size, 2);
  std::string client_received(size, '\0');
  error_code client_error, client_read_error;
  std::size_t client_read = 0;
  ServerReader reader{pair, size};
  ServerWriter writer{pair, down};
  pair.client->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
    client_error = e;
    if (e) return;
    asio::async_write(*pair.client, asio::buffer(up),
                      [&](const error_code& we, std::size_t) { client_error = we; });
    asio::async_read(*pair.client, asio::buffer(client_received),
                     [&](const error_code& re, std::size_t n) {
                       client_read_error = re;
                       client_read = n;
                     });
    writer.run();
  });
  asio::post(pair.io, [&] { reader.run(); });
  pair.io.run_for(std::chrono::seconds(60));
  ASSERT_FALSE(client_error) << client_error.message();
  ASSERT_FALSE(reader.error) << reader.error.message();
  ASSERT_FALSE(writer.error) << writer.error.message();
  ASSERT_FALSE(client_read_error) << client_read_error.message();
  EXPECT_EQ(reader.received.size(), size);
  EXPECT_TRUE(reader.received == up);
  EXPECT_EQ(writer.taken, size);
  EXPECT_EQ(client_read, size);
  EXPECT_TRUE(client_received == down);
  EXPECT_GT(writer.waits, 0) << "the socket never filled: partial writes untested";
  EXPECT_FALSE(pair.layer->write_pending());
}

TEST(TlsLayer, DecryptedBytesLeftInsideAreReportedAsBuffered) {
  Pair pair(server_options());
  ASSERT_TRUE(pair.layer);
  error_code client_error;
  ServerReader reader{pair, 1};
  handshake(pair, client_error, reader);
  ASSERT_FALSE(client_error) << client_error.message();
  ASSERT_TRUE(pair.layer->handshake_done());

  // One record of 300 bytes, read 16 at a time: after the first read the rest is
  // inside OpenSSL, not in the socket.
  const std::string message = pattern(300, 3);
  asio::write(*pair.client, asio::buffer(message));
  pair.server.wait(tcp::socket::wait_read);
  std::uint8_t buffer[16];
  error_code e;
  std::string received;
  std::size_t n = pair.layer->read_some(pair.server, buffer, e);
  ASSERT_EQ(n, 16u) << e.message();
  received.append(reinterpret_cast<char*>(buffer), n);
  while (pair.layer->read_buffered()) {
    n = pair.layer->read_some(pair.server, buffer, e);
    ASSERT_GT(n, 0u) << e.message();
    received.append(reinterpret_cast<char*>(buffer), n);
  }
  EXPECT_EQ(received, message);
  n = pair.layer->read_some(pair.server, buffer, e);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(e, asio::error::would_block);
}

TEST(TlsLayer, VerifiedClientCertificateGivesTheIdentity) {
  Pair pair(mutual_options(true), "client");
  ASSERT_TRUE(pair.layer);
  error_code client_error;
  ServerReader reader{pair, 1};
  pair.client->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
    client_error = e;
    if (!e) asio::write(*pair.client, asio::buffer(std::string("x")));
  });
  asio::post(pair.io, [&] { reader.run(); });
  pair.io.run_for(std::chrono::seconds(20));
  ASSERT_FALSE(client_error) << client_error.message();
  ASSERT_FALSE(reader.error) << reader.error.message();
  const PeerIdentity* peer = pair.layer->peer_identity();
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->subject, "CN=alice,O=Acme");
  EXPECT_EQ(peer->common_name, "alice");
}

TEST(TlsLayer, ClientCertificateIsOptionalWithoutFailIfNoPeerCert) {
  Pair pair(mutual_options(false));
  ASSERT_TRUE(pair.layer);
  error_code client_error;
  ServerReader reader{pair, 1};
  pair.client->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
    client_error = e;
    if (!e) asio::write(*pair.client, asio::buffer(std::string("x")));
  });
  asio::post(pair.io, [&] { reader.run(); });
  pair.io.run_for(std::chrono::seconds(20));
  ASSERT_FALSE(client_error) << client_error.message();
  ASSERT_FALSE(reader.error) << reader.error.message();
  EXPECT_EQ(reader.received, "x");
  EXPECT_EQ(pair.layer->peer_identity(), nullptr);
}

TEST(TlsLayer, MissingClientCertificateFailsTheHandshake) {
  Pair pair(mutual_options(true));
  ASSERT_TRUE(pair.layer);
  error_code client_error;
  ServerReader reader{pair, 1};
  handshake(pair, client_error, reader);
  ASSERT_TRUE(reader.error);
  EXPECT_NE(reader.error, asio::error::would_block);
  EXPECT_NE(reader.error.message().find("certificate"), std::string::npos)
      << reader.error.message();
  EXPECT_FALSE(pair.layer->handshake_done());
}

TEST(TlsLayer, CertificateFromAnotherCaFailsVerification) {
  Pair pair(mutual_options(true), "stranger");
  ASSERT_TRUE(pair.layer);
  error_code client_error;
  ServerReader reader{pair, 1};
  handshake(pair, client_error, reader);
  ASSERT_TRUE(reader.error);
  EXPECT_EQ(&reader.error.category(), &x509_category()) << reader.error.message();
  EXPECT_EQ(reader.error.value(), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
      << reader.error.message();
}

TEST(TlsLayer, MinimumVersionRefusesOlderClients) {
  TlsOptions options = server_options();
  options.min_version = TlsVersion::tls1_3;
  Pair pair(options);
  ASSERT_TRUE(pair.layer);
  SSL_set_max_proto_version(pair.client->native_handle(), TLS1_2_VERSION);
  error_code client_error;
  ServerReader reader{pair, 1};
  handshake(pair, client_error, reader);
  EXPECT_TRUE(client_error);
  ASSERT_TRUE(reader.error);
  EXPECT_NE(reader.error.message().find("protocol"), std::string::npos) << reader.error.message();
}

TEST(TlsLayer, ShutdownSendsCloseNotifyAndPeerEndIsEof) {
  Pair pair(server_options());
  ASSERT_TRUE(pair.layer);
  error_code client_error;
  ServerReader reader{pair, 1};
  handshake(pair, client_error, reader);
  ASSERT_FALSE(client_error) << client_error.message();
  pair.layer->shutdown(pair.server);
  char byte;
  error_code read_error;
  asio::read(*pair.client, asio::buffer(&byte, 1), read_error);
  EXPECT_EQ(read_error, asio::error::eof) << read_error.message();

  // The client goes away without close_notify: an ordinary end, not an error.
  pair.client->next_layer().close();
  pair.server.wait(tcp::socket::wait_read);
  std::uint8_t buffer[16];
  error_code e;
  EXPECT_EQ(pair.layer->read_some(pair.server, buffer, e), 0u);
  EXPECT_EQ(e, asio::error::eof) << e.message();
}

TEST(TlsContext, ErrorsNameTheFileAndTheReason) {
  const auto& c = test_certs();
  TlsOptions missing = server_options();
  missing.certfile = c.path("nonexistent.crt");
  auto made = TlsContext::make(missing);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find("certfile " + c.path("nonexistent.crt") + ": "), std::string::npos)
      << made.error();
  EXPECT_NE(made.error().find("No such file"), std::string::npos) << made.error();

  TlsOptions mismatch = server_options();
  mismatch.keyfile = c.path("client.key");
  made = TlsContext::make(mismatch);
  ASSERT_FALSE(made);
  // OpenSSL finds the mismatch while loading the key ("key values mismatch").
  EXPECT_NE(made.error().find("keyfile " + c.path("client.key") + ": "), std::string::npos)
      << made.error();
  EXPECT_NE(made.error().find("mismatch"), std::string::npos) << made.error();

  TlsOptions no_ca = server_options();
  no_ca.verify_peer = true;
  made = TlsContext::make(no_ca);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find("cacertfile"), std::string::npos) << made.error();

  TlsOptions bad_cipher = server_options();
  bad_cipher.ciphers = "NOT-A-CIPHER";
  made = TlsContext::make(bad_cipher);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().find("ciphers 'NOT-A-CIPHER'"), std::string::npos) << made.error();

  TlsOptions good_ciphers = server_options();
  good_ciphers.ciphers = "TLS_AES_128_GCM_SHA256,ECDHE-ECDSA-AES128-GCM-SHA256";
  EXPECT_TRUE(TlsContext::make(good_ciphers));
}

}  // namespace
}  // namespace cicada::net
