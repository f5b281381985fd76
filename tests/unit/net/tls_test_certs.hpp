// Throwaway certificates for the TLS unit tests, made with the openssl command in a
// fresh temporary directory: a CA, a server certificate for 127.0.0.1, a client
// certificate (CN=alice, O=Acme), and a client certificate from another CA.
// Thread-safety: made once per test binary on the main thread, then read-only.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace cicada::net::testing {

struct TestCerts {
  std::string dir;
  std::string path(const std::string& name) const { return dir + "/" + name; }
};

inline void openssl(const std::string& args) {
  const std::string command = "openssl " + args + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

inline const TestCerts& test_certs() {
  static const TestCerts certs = [] {
    char pattern[] = "/tmp/cicada-tls-test-XXXXXX";
    TestCerts c{::mkdtemp(pattern)};
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    for (const std::string ca : {"ca", "other-ca"}) {
      openssl("req -x509 " + key + " -keyout " + c.path(ca + ".key") + " -out " +
              c.path(ca + ".crt") + " -days 2 -subj '/CN=cicada test " + ca +
              "' -addext basicConstraints=critical,CA:TRUE"
              " -addext keyUsage=critical,keyCertSign,cRLSign");
    }
    struct Leaf {
      std::string name, ca, subject, ext;
    };
    for (const Leaf& leaf :
         {Leaf{"server", "ca", "/CN=localhost",
               "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"},
          Leaf{"client", "ca", "/O=Acme/CN=alice", "extendedKeyUsage=clientAuth\n"},
          Leaf{"stranger", "other-ca", "/CN=mallory", "extendedKeyUsage=clientAuth\n"}}) {
      const std::string ext = c.path(leaf.name + ".ext");
      std::FILE* f = std::fopen(ext.c_str(), "w");
      std::fputs(("basicConstraints=CA:FALSE\n" + leaf.ext).c_str(), f);
      std::fclose(f);
      openssl("req " + key + " -keyout " + c.path(leaf.name + ".key") + " -out " +
              c.path(leaf.name + ".csr") + " -subj '" + leaf.subject + "'");
      openssl("x509 -req -in " + c.path(leaf.name + ".csr") + " -CA " + c.path(leaf.ca + ".crt") +
              " -CAkey " + c.path(leaf.ca + ".key") + " -CAcreateserial -days 2 -out " +
              c.path(leaf.name + ".crt") + " -extfile " + ext);
    }
    // Removed at exit; the path is copied, as `certs` is destroyed before this runs.
    static char made[64];
    std::snprintf(made, sizeof made, "%s", c.dir.c_str());
    std::atexit([] { std::filesystem::remove_all(made); });
    return c;
  }();
  return certs;
}

}  // namespace cicada::net::testing
