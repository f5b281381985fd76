// [listeners.ssl.NAME]: its own keys, its default port, and how it lives beside
// [listeners.tcp.NAME] tables of the same name.
#include <gtest/gtest.h>

#include "broker/config/config.hpp"
#include "test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::load_error;
using testing_support::with_file;
using testing_support::write_file;

TEST(SslListener, FileKeysReachTheConfig) {
  const Config c = load_config(with_file(write_file(R"(
[listeners.ssl.default]
certfile = "/etc/cicada/server.pem"
keyfile = "/etc/cicada/server.key"
cacertfile = "/etc/cicada/ca.pem"
verify = "verify_peer"
fail_if_no_peer_cert = true
peer_cert_as_username = "cn"
tls_min_version = "tlsv1.3"
ciphers = "TLS_AES_128_GCM_SHA256"
max_connections = 10
[listeners.tcp.default]
bind = "127.0.0.1:1883"
)")),
                               {});
  ASSERT_EQ(c.tcp_listeners.size(), 2u);
  const TcpListenerConfig& ssl = c.tcp_listeners[0];  // by kind, then name
  EXPECT_EQ(ssl.kind, ListenerKind::ssl);
  EXPECT_EQ(ssl.name, "default");
  EXPECT_EQ(ssl.id(), "ssl:default");
  EXPECT_EQ(ssl.host, "0.0.0.0");
  EXPECT_EQ(ssl.port, 8883);  // the TLS convention, not 1883
  EXPECT_EQ(ssl.certfile, "/etc/cicada/server.pem");
  EXPECT_EQ(ssl.keyfile, "/etc/cicada/server.key");
  EXPECT_EQ(ssl.cacertfile, "/etc/cicada/ca.pem");
  EXPECT_EQ(ssl.verify, TlsVerify::verify_peer);
  EXPECT_TRUE(ssl.fail_if_no_peer_cert);
  EXPECT_EQ(ssl.peer_cert_as_username, PeerCertAsUsername::cn);
  EXPECT_EQ(ssl.tls_min_version, TlsMinVersion::tls1_3);
  EXPECT_EQ(ssl.ciphers, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(ssl.max_connections, 10u);
  const TcpListenerConfig& tcp = c.tcp_listeners[1];
  EXPECT_EQ(tcp.kind, ListenerKind::tcp);
  EXPECT_EQ(tcp.id(), "default");
  EXPECT_EQ(tcp.port, 1883);
}

TEST(SslListener, DefaultsAreVerifyNoneTls12AndNoUserNameFromTheCertificate) {
  const Config c = load_config(with_file(write_file("[listeners.ssl.s]\ncertfile = \"c\"\n")), {});
  ASSERT_EQ(c.tcp_listeners.size(), 1u);  // naming a listener drops the built-in tcp one
  const TcpListenerConfig& ssl = c.tcp_listeners[0];
  EXPECT_EQ(ssl.verify, TlsVerify::verify_none);
  EXPECT_FALSE(ssl.fail_if_no_peer_cert);
  EXPECT_EQ(ssl.peer_cert_as_username, PeerCertAsUsername::disabled);
  EXPECT_EQ(ssl.tls_min_version, TlsMinVersion::tls1_2);
  EXPECT_EQ(ssl.ciphers, "");
}

TEST(SslListener, EnvironmentAndShortForm) {
  const Config c = load_config({}, {{"CICADA_LISTENERS__SSL__EDGE__CERTFILE", "/x.pem"},
                                    {"CICADA_LISTENERS__SSL__BIND", "127.0.0.1:9883"}});
  ASSERT_EQ(c.tcp_listeners.size(), 2u);
  EXPECT_EQ(c.tcp_listeners[0].id(), "ssl:default");
  EXPECT_EQ(c.tcp_listeners[0].port, 9883);
  EXPECT_EQ(c.tcp_listeners[1].id(), "ssl:edge");
  EXPECT_EQ(c.tcp_listeners[1].certfile, "/x.pem");
}

TEST(SslListener, ErrorsNameFileLineAndKey) {
  std::string path = write_file("[listeners.ssl.a]\nverify = \"yes\"\n");
  EXPECT_EQ(load_error(with_file(path)),
            path +
                ":2: listeners.ssl.a.verify: expected one of verify_none or verify_peer, got "
                "\"yes\"");
  path = write_file("[listeners.ssl.a]\npeer_cert_as_username = \"crt\"\n");
  EXPECT_EQ(load_error(with_file(path)),
            path +
                ":2: listeners.ssl.a.peer_cert_as_username: expected one of disabled, cn or "
                "dn, got \"crt\"");
  path = write_file("[listeners.ssl.a]\ntls_min_version = \"tlsv1.1\"\n");
  EXPECT_EQ(load_error(with_file(path)),
            path +
                ":2: listeners.ssl.a.tls_min_version: expected one of tlsv1.2 or tlsv1.3, got "
                "\"tlsv1.1\"");
  // TLS keys belong to ssl listeners only.
  path = write_file("[listeners.tcp.a]\ncertfile = \"c\"\n");
  EXPECT_NE(load_error(with_file(path)).find(path + ":2: listeners.tcp.a.certfile: unknown key"),
            std::string::npos);
  path = write_file("[listeners.ssl.a]\ncertfle = \"c\"\n");
  EXPECT_EQ(load_error(with_file(path)),
            path +
                ":2: listeners.ssl.a.certfle: unknown key; did you mean "
                "listeners.ssl.a.certfile?");
}

TEST(SslListener, SameNameAsATcpListenerIsAnotherListenerButNotTheSamePort) {
  const Config c = load_config(
      with_file(write_file("[listeners.tcp.a]\nbind = 1883\n[listeners.ssl.a]\nbind = 8883\n")),
      {});
  ASSERT_EQ(c.tcp_listeners.size(), 2u);
  const std::string path =
      write_file("[listeners.tcp.a]\nbind = 1883\n[listeners.ssl.a]\nbind = 1883\n");
  EXPECT_EQ(load_error(with_file(path)),
            path +
                ":2: listeners.tcp.a.bind: 0.0.0.0:1883 is also the bind of listener ssl:a; "
                "give each listener its own port");
}

TEST(SslListener, PrintedConfigReadsBackTheSame) {
  const Config c = load_config(with_file(write_file(R"(
[listeners.ssl.secure]
bind = "127.0.0.1:0"
certfile = "/c.pem"
keyfile = "/k.pem"
verify = "verify_peer"
cacertfile = "/ca.pem"
peer_cert_as_username = "dn"
)")),
                               {});
  const std::string printed = print_config(c);
  EXPECT_NE(printed.find("[listeners.ssl.secure]\n"), std::string::npos) << printed;
  EXPECT_EQ(load_config(with_file(write_file(printed)), {}), c) << printed;
}

}  // namespace
}  // namespace cicada::broker
