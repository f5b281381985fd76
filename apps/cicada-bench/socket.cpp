#include "socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace cicada::bench {

std::string SocketAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = "?";
  std::uint16_t port = 0;
  const bool v4 = family() == AF_INET;
  if (v4) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  }
  // Appended piece by piece: GCC 12 misreports operator+ chains here (-Wrestrict, PR 105329).
  std::string out;
  if (!v4) out += '[';
  out += text;
  if (!v4) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

Expected<SocketAddress, std::string> resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    return unexpected("cannot resolve '" + host + "': " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, &::freeaddrinfo);
  const addrinfo* chosen = list;
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
  }
  SocketAddress out;
  std::memcpy(&out.storage, chosen->ai_addr, chosen->ai_addrlen);
  out.size = chosen->ai_addrlen;
  return Expected<SocketAddress, std::string>{out};
}

Expected<SocketAddress, std::string> parse_source_address(std::string_view ip) {
  const std::string text(ip);
  SocketAddress out;
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET, text.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    out.size = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    out.size = sizeof(sockaddr_in6);
  } else {
    return unexpected("--ifaddr '" + text + "' is not a numeric IPv4 or IPv6 address");
  }
  return Expected<SocketAddress, std::string>{out};
}

int open_connection(const SocketAddress& broker, const SocketAddress* source, const char*& what) {
  const int fd = ::socket(broker.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    what = "socket";
    return -errno;
  }
  const int one = 1;
  // Batching happens in the tool (one send per connection per loop turn), so Nagle
  // would only add latency.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source) {
    // Pick the port at connect() time, so the 4-tuple, not the source port alone, has
    // to be unique: one source address then serves ~28k connections per broker port.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&source->storage), source->size) != 0) {
      const int error = errno;
      ::close(fd);
      what = "bind";
      return -error;
    }
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&broker.storage), broker.size) != 0 &&
      errno != EINPROGRESS) {
    const int error = errno;
    ::close(fd);
    what = "connect";
    return -error;
  }
  return fd;
}

}  // namespace cicada::bench
