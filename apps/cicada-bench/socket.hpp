// Socket helpers: resolving the broker once at start-up, parsing --ifaddr source
// addresses, and opening a non-blocking TCP connection from a chosen source address.
// Thread-safety: pure functions (resolve() blocks; call it before the workers start).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>

namespace cicada::bench {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t size = 0;
  int family() const noexcept { return storage.ss_family; }
  std::string to_string() const;
};

// The broker's address; IPv4 results are preferred, because brokers are often bound to
// 127.0.0.1 while "localhost" resolves to ::1 first.
Expected<SocketAddress, std::string> resolve(const std::string& host, std::uint16_t port);

// A numeric source address (port 0) for --ifaddr.
Expected<SocketAddress, std::string> parse_source_address(std::string_view ip);

// A non-blocking TCP socket with TCP_NODELAY, bound to `source` when given, whose
// connect to `broker` has been started. Returns the descriptor, or -errno and sets
// `what` to the call that failed.
int open_connection(const SocketAddress& broker, const SocketAddress* source, const char*& what);

}  // namespace cicada::bench
