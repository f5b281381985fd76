// mqtt-sink: the cheapest possible "broker", to measure cicada-bench's own ceiling.
// It accepts TCP connections, answers each CONNECT with a CONNACK (3.1.1 or 5.0, as
// the CONNECT asks), and otherwise only reads: it walks the fixed headers to count
// PUBLISH packets, skips their bodies, and answers nothing else (so use QoS 0).
// Once a second it prints connections, msg/s and MB/s received. With --ws it is a
// WebSocket endpoint at /mqtt instead, through the broker's own handshake and frame
// decoder (src/net), so cicada-bench's ws:// ceiling can be measured too.
//
//   mqtt-sink [--bind 127.0.0.1] [--port 0] [--threads 1] [--ws]
//
// One accept thread hands connections round-robin to reader threads, each with its
// own epoll set. Thread-safety: a connection belongs to one reader thread; counters
// are per thread and read by the main thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/websocket_frames.hpp"
#include "net/websocket_handshake.hpp"

namespace {

namespace ws = cicada::net::websocket;

std::atomic<bool> stopping{false};
extern "C" void on_signal(int) {
  stopping.store(true);
}

struct alignas(64) ReaderCounters {
  std::atomic<std::uint64_t> publishes{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> connections{0};
};

// One client: before the CONNACK it collects the CONNECT; afterwards it only tracks
// where the next fixed header starts.
struct Client {
  int fd = -1;
  bool answered = false;
  std::string connect;     // bytes of the first packet, until it is complete
  std::uint8_t head[5]{};  // a fixed header being collected
  std::size_t head_size = 0;
  std::uint64_t skip = 0;  // body bytes of the current packet still to skip
  // --ws: the upgrade until it is answered, then the frames.
  std::unique_ptr<ws::Handshake> handshake;
  std::unique_ptr<ws::FrameDecoder> frames;
};

// --ws: answers the upgrade once it is complete, then unmasks the frames in place;
// returns the MQTT bytes now at the front of `buffer`, or -1 to close.
long unframe(Client& c, std::vector<std::uint8_t>& buffer, std::size_t size) {
  if (c.handshake) {
    c.handshake->feed({buffer.data(), size});
    if (c.handshake->state() == ws::Handshake::State::reading) return 0;
    const std::string& response = c.handshake->response();
    if (::send(c.fd, response.data(), response.size(), MSG_NOSIGNAL) < 0 ||
        c.handshake->state() != ws::Handshake::State::accepted) {
      return -1;
    }
    const auto leftover = c.handshake->leftover();  // frames sent with the request
    std::memcpy(buffer.data(), leftover.data(), leftover.size());
    size = leftover.size();
    c.handshake.reset();
  }
  std::size_t at = 0;
  std::size_t data = 0;
  while (at < size) {
    const auto step = c.frames->decode({buffer.data() + at, size - at}, buffer.data() + data);
    at += step.consumed;
    data += step.data;
    // A sink answers nothing, not even a Ping; Close and errors end the connection.
    if (step.event == ws::FrameDecoder::Event::close ||
        step.event == ws::FrameDecoder::Event::error)
      return -1;
    if (step.event == ws::FrameDecoder::Event::none) break;
  }
  return static_cast<long>(data);
}

// Remaining Length of a fixed header of `size` bytes, or -1 when malformed.
long long remaining_length(const std::uint8_t* head, std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = 1; i < size; ++i)
    value |= std::uint64_t{head[i] & 0x7Fu} << (7 * (i - 1));
  return static_cast<long long>(value);
}

// Counts PUBLISH packets in `data`; false on a malformed stream.
bool walk(Client& c, const std::uint8_t* data, std::size_t n, std::uint64_t& publishes) {
  std::size_t i = 0;
  while (i < n) {
    if (c.skip > 0) {
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(c.skip, n - i));
      c.skip -= take;
      i += take;
      continue;
    }
    c.head[c.head_size++] = data[i++];
    if (c.head_size >= 2 && (c.head[c.head_size - 1] & 0x80) == 0) {
      if ((c.head[0] >> 4) == 3) ++publishes;
      c.skip = static_cast<std::uint64_t>(remaining_length(c.head, c.head_size));
      c.head_size = 0;
    } else if (c.head_size == 5) {
      return false;
    }
  }
  return true;
}

// Once the whole CONNECT is in, answers it; returns bytes of `data` it consumed, or -1.
long answer_connect(Client& c, const std::uint8_t* data, std::size_t n) {
  const std::size_t before = c.connect.size();
  c.connect.append(reinterpret_cast<const char*>(data), n);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(c.connect.data());
  std::size_t header = 1;
  while (header < c.connect.size() && header < 5 && (bytes[header] & 0x80))
    ++header;
  if (header >= c.connect.size()) return static_cast<long>(n);  // header incomplete
  ++header;
  const auto total = static_cast<std::size_t>(remaining_length(bytes, header)) + header;
  if ((bytes[0] >> 4) != 1 || total < header + 8) return -1;
  if (c.connect.size() < total) return static_cast<long>(n);
  // Protocol level: after the 2-byte length and the protocol name.
  const std::size_t name = std::size_t{bytes[header]} << 8 | bytes[header + 1];
  const std::uint8_t level = bytes[std::min(header + 2 + name, total - 1)];
  // Behind a WebSocket, the CONNACK goes in one unmasked binary frame.
  std::uint8_t connack[2 + 5] = {0x82, 0, 0x20, 0x03, 0x00, 0x00, 0x00};
  const bool is_v5 = level == 5;
  connack[1] = is_v5 ? 5 : 4;
  connack[3] = is_v5 ? 3 : 2;
  const std::size_t framing = c.frames ? 2 : 0;
  const std::size_t size = framing + (is_v5 ? 5 : 4);
  if (::send(c.fd, connack + 2 - framing, size, MSG_NOSIGNAL) < 0) return -1;
  c.answered = true;
  c.connect.clear();
  c.connect.shrink_to_fit();
  return static_cast<long>(total - before);
}

void read_loop(int epoll_fd, ReaderCounters& counters) {
  std::vector<std::uint8_t> buffer(256 * 1024);
  epoll_event events[256];
  while (!stopping.load(std::memory_order_relaxed)) {
    const int n = ::epoll_wait(epoll_fd, events, 256, 200);
    for (int e = 0; e < n; ++e) {
      auto* c = static_cast<Client*>(events[e].data.ptr);
      const ssize_t got = ::recv(c->fd, buffer.data(), buffer.size(), 0);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      bool ok = got > 0;
      if (ok) {
        std::size_t offset = 0;
        auto size = static_cast<std::size_t>(got);
        if (c->frames) {
          const long data = unframe(*c, buffer, size);
          ok = data >= 0;
          size = ok ? static_cast<std::size_t>(data) : 0;
        }
        if (ok && !c->answered) {
          const long used = answer_connect(*c, buffer.data(), size);
          ok = used >= 0;
          offset = ok ? static_cast<std::size_t>(used) : size;
        }
        std::uint64_t publishes = 0;
        ok = ok && walk(*c, buffer.data() + offset, size - offset, publishes);
        counters.publishes.store(counters.publishes.load(std::memory_order_relaxed) + publishes,
                                 std::memory_order_relaxed);
        counters.bytes.store(counters.bytes.load(std::memory_order_relaxed) + size,
                             std::memory_order_relaxed);
      }
      if (!ok) {
        ::close(c->fd);  // also leaves the epoll set
        delete c;
        counters.connections.fetch_sub(1, std::memory_order_relaxed);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string bind_address = "127.0.0.1";
  int port = 0;
  int threads = 1;
  bool websocket = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--ws") {
      websocket = true;
      continue;
    }
    const bool has_value = i + 1 < argc;
    if (has_value && flag == "--bind") {
      bind_address = argv[++i];
    } else if (has_value && flag == "--port") {
      port = std::atoi(argv[++i]);
    } else if (has_value && flag == "--threads") {
      threads = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: mqtt-sink [--bind ADDR] [--port N] [--threads N] [--ws]\n");
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);

  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, bind_address.c_str(), &address.sin_addr) != 1 ||
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 4096) != 0) {
    std::fprintf(stderr, "mqtt-sink: cannot listen on %s:%d: %s\n", bind_address.c_str(), port,
                 std::strerror(errno));
    return 1;
  }
  socklen_t size = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  std::printf("mqtt-sink listening on %s:%u%s\n", bind_address.c_str(), ntohs(address.sin_port),
              websocket ? " (WebSocket)" : "");
  std::fflush(stdout);

  std::vector<int> epolls;
  std::vector<std::unique_ptr<ReaderCounters>> counters;
  std::vector<std::thread> readers;
  for (int t = 0; t < threads; ++t) {
    epolls.push_back(::epoll_create1(EPOLL_CLOEXEC));
    counters.push_back(std::make_unique<ReaderCounters>());
    readers.emplace_back(read_loop, epolls.back(), std::ref(*counters.back()));
  }
  std::thread acceptor([&] {
    std::size_t next = 0;
    while (!stopping.load()) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) continue;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto* client = new Client{.fd = fd};
      if (websocket) {
        client->handshake = std::make_unique<ws::Handshake>(ws::HandshakeOptions{});
        client->frames = std::make_unique<ws::FrameDecoder>();
      }
      const std::size_t t = next++ % epolls.size();
      counters[t]->connections.fetch_add(1, std::memory_order_relaxed);
      epoll_event event{.events = EPOLLIN, .data = {.ptr = client}};
      ::epoll_ctl(epolls[t], EPOLL_CTL_ADD, fd, &event);
    }
  });

  std::uint64_t last_publishes = 0, last_bytes = 0, total_publishes = 0;
  auto last = std::chrono::steady_clock::now();
  while (!stopping.load()) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::uint64_t publishes = 0, bytes = 0, connections = 0;
    for (const auto& c : counters) {
      publishes += c->publishes.load(std::memory_order_relaxed);
      bytes += c->bytes.load(std::memory_order_relaxed);
      connections += c->connections.load(std::memory_order_relaxed);
    }
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    std::printf("sink: %llu conns  %.0f msg/s  %.1f MB/s\n",
                static_cast<unsigned long long>(connections),
                static_cast<double>(publishes - last_publishes) / dt,
                static_cast<double>(bytes - last_bytes) / dt / 1e6);
    std::fflush(stdout);
    last_publishes = publishes;
    last_bytes = bytes;
    total_publishes = publishes;
  }
  std::printf("sink: %llu PUBLISH packets in all\n",
              static_cast<unsigned long long>(total_publishes));
  // The acceptor may sit in accept(): shutting the listener down wakes it.
  ::shutdown(listener, SHUT_RDWR);
  acceptor.join();
  for (auto& reader : readers)
    reader.join();
  return 0;
}
