#include "connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cicada/codec/encode.hpp>

#include "clock.hpp"
#include "payload.hpp"

namespace cicada::bench {
namespace {

codec::ParserOptions parser_options(const ClientSettings& settings, Role role) {
  // Subscribers take the message stream, publishers only acknowledgements, and idle
  // connections next to nothing: thousands of them should not hold 64 KiB each.
  const std::size_t buffer = role == Role::sub ? 64 * 1024 : role == Role::pub ? 4096 : 512;
  return {.max_packet_size = static_cast<std::uint32_t>(
              std::max<std::size_t>(1 << 20, settings.payload_size + 64 * 1024)),
          .buffer_size = buffer,
          .version = settings.version};
}

}  // namespace

Connection::Connection(const ClientSettings& settings, ClientSpec spec, WorkerMetrics& metrics,
                       ErrorLog& errors)
    : settings_(settings),
      spec_(std::move(spec)),
      metrics_(metrics),
      errors_(errors),
      keep_alive_ns_(std::uint64_t{settings.keep_alive} * 1'000'000'000u),
      parser_(parser_options(settings, spec_.role)),
      read_size_(spec_.role == Role::sub ? 16 * 1024 : 256),
      window_(settings.inflight),
      remaining_(spec_.role == Role::pub ? spec_.limit : 0) {
  if (spec_.role == Role::pub) build_publish_template();
}

Connection::~Connection() {
  close_socket();
}

bool Connection::start(std::uint64_t now) {
  const SocketAddress* source = nullptr;
  if (!settings_.sources.empty()) {
    source = &settings_.sources[spec_.ordinal % settings_.sources.size()];
  }
  const char* what = "";
  const int fd = open_connection(settings_.broker, source, what);
  started_ns_ = now;
  if (metrics_.counters.first_connect_ns.load() == 0) metrics_.counters.first_connect_ns.set(now);
  if (fd < 0) {
    state_ = State::tcp_connecting;  // so fail() counts it as a failed connect
    fail(std::string(what) + ": " + std::strerror(-fd));
    return false;
  }
  fd_ = fd;
  state_ = State::tcp_connecting;
  return true;
}

void Connection::on_writable(std::uint64_t now) {
  if (state_ == State::tcp_connecting) {
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      fail(std::string("connect to ") + settings_.broker.to_string() + ": " + std::strerror(error));
      return;
    }
    if (settings_.tls) {
      tls_ = std::make_unique<TlsStream>(*settings_.tls, fd_, settings_.tls_host);
      state_ = State::tls_handshaking;
      continue_handshake(now);
      return;
    }
    start_session(now);
    return;
  }
  if (state_ == State::tls_handshaking) {
    continue_handshake(now);
    return;
  }
  write_blocked_ = false;
  tls_wants_write_ = false;
}

void Connection::continue_handshake(std::uint64_t now) {
  TlsStream::Wait wait = TlsStream::Wait::none;
  if (tls_->handshake(wait)) {
    tls_wants_write_ = false;
    start_session(now);
    return;
  }
  if (wait == TlsStream::Wait::failed || wait == TlsStream::Wait::closed) {
    fail("TLS handshake with " + settings_.broker.to_string() + ": " +
         (wait == TlsStream::Wait::closed ? std::string("closed by the broker") : tls_->error()));
    return;
  }
  tls_wants_write_ = wait == TlsStream::Wait::writable;
}

void Connection::start_session(std::uint64_t now) {
  last_sent_ns_ = now;
  if (settings_.websocket) {
    ws_ = std::make_unique<WebSocketStream>(settings_.ws_host, settings_.ws_path);
    ws_->start(wire_);
    state_ = State::ws_handshaking;
    return;
  }
  state_ = State::mqtt_connecting;
  queue_connect();
}

long Connection::receive(std::span<std::uint8_t> space, bool& closed) {
  closed = false;
  if (!tls_) {
    const ssize_t n = ::recv(fd_, space.data(), space.size(), 0);
    if (n > 0) return n;
    if (n == 0) {
      closed = true;
      return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    fail(std::string("recv: ") + std::strerror(errno));
    return -1;
  }
  TlsStream::Wait wait = TlsStream::Wait::none;
  const std::size_t n = tls_->read(space.data(), space.size(), wait);
  if (n > 0) return static_cast<long>(n);
  switch (wait) {
    case TlsStream::Wait::closed:
      closed = true;
      return 0;
    case TlsStream::Wait::failed:
      fail("TLS read: " + tls_->error());
      return -1;
    case TlsStream::Wait::writable:
      tls_wants_write_ = true;  // a TLS 1.3 key update answered before reading on
      return 0;
    default:
      return 0;
  }
}

long Connection::transmit(const std::uint8_t* data, std::size_t size) {
  if (!tls_) {
    const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    fail(std::string("send: ") + std::strerror(errno));
    return -1;
  }
  TlsStream::Wait wait = TlsStream::Wait::none;
  const std::size_t n = tls_->write(data, size, wait);
  if (n > 0) return static_cast<long>(n);
  if (wait == TlsStream::Wait::failed || wait == TlsStream::Wait::closed) {
    fail("TLS write: " +
         (wait == TlsStream::Wait::closed ? std::string("closed by the broker") : tls_->error()));
    return -1;
  }
  return 0;  // readable: the session waits for the broker first; retried next turn
}

void Connection::on_readable() {
  // A subscriber reads until the socket is empty (bounded, so one flood cannot hold the
  // loop): one recv per turn would let this process's own unlimited publishers, which
  // queue a whole batch per turn, outrun its subscribers and make the tool the bottleneck.
  if (state_ == State::tls_handshaking) {
    continue_handshake(monotonic_ns());
    return;
  }
  const int max_reads = spec_.role == Role::sub ? 16 : 1;
  // Over TLS, bytes OpenSSL has already taken from the socket are read out too: epoll
  // would never signal them again.
  for (int i = 0;
       (i < max_reads || (tls_ && tls_->pending())) && fd_ >= 0 && state_ != State::tcp_connecting;
       ++i) {
    const std::span<std::uint8_t> space = parser_.prepare(read_size_);
    bool closed = false;
    const long n = receive(space, closed);
    if (closed) {
      on_closed("connection closed by the broker");
      return;
    }
    if (n <= 0) return;  // nothing more now, or failed
    std::size_t data = static_cast<std::size_t>(n);
    if (ws_) {
      // The MQTT bytes inside the frames move to the front of `space`.
      switch (ws_->receive(space.first(data), data, wire_)) {
        case WebSocketStream::Result::more:
          break;
        case WebSocketStream::Result::accepted:
          state_ = State::mqtt_connecting;
          queue_connect();
          break;
        case WebSocketStream::Result::closed:
          on_closed(ws_->error());
          return;
        case WebSocketStream::Result::failed:
          fail(ws_->error());
          return;
      }
    }
    parser_.commit(data);
    // Read the clock after the bytes are in: every message of this read arrived by now.
    const std::uint64_t now = monotonic_ns();
    while (fd_ >= 0) {
      auto next = parser_.next();
      if (!next) {
        fail(std::string("bad packet from the broker: ") + std::string(next.error().detail));
        return;
      }
      if (!next->has_value()) break;
      handle((*next)->packet, now);
    }
    if (spec_.role == Role::conn) parser_.release_if_idle();
    // A short plain read: the socket is empty. TLS reads stop at record boundaries, so
    // they go on until OpenSSL wants more from the socket.
    if (!tls_ && static_cast<std::size_t>(n) < space.size()) return;
  }
}

void Connection::on_closed(std::string_view why) {
  if (state_ == State::disconnecting) {
    close_socket();
    state_ = State::closed;
  } else {
    fail(why);
  }
}

void Connection::on_second(std::uint64_t now) {
  switch (state_) {
    case State::tcp_connecting:
    case State::tls_handshaking:
    case State::ws_handshaking:
    case State::mqtt_connecting:
    case State::subscribing:
      if (now - started_ns_ > settings_.connect_timeout_ns) {
        fail(state_ == State::tcp_connecting    ? "TCP connect timed out"
             : state_ == State::tls_handshaking ? "TLS handshake timed out"
             : state_ == State::ws_handshaking  ? "WebSocket handshake timed out"
             : state_ == State::subscribing     ? "no SUBACK in time"
                                                : "no CONNACK in time");
      }
      break;
    case State::ready:
      // [MQTT-3.1.2-20] a PINGREQ when nothing else went out. At half the keep-alive,
      // a one-second check period can never run into the broker's 1.5x limit.
      if (keep_alive_ns_ != 0 && now - last_sent_ns_ >= keep_alive_ns_ / 2 && out_.empty()) {
        out_.append(settings_.templates.pingreq.data(), settings_.templates.pingreq.size());
      }
      break;
    case State::disconnecting:
      if (now - started_ns_ > 2'000'000'000u) {
        close_socket();
        state_ = State::closed;
      }
      break;
    case State::idle:
    case State::closed:
      break;
  }
}

std::uint32_t Connection::publish(std::uint32_t max_messages, std::size_t max_output) {
  std::uint32_t n = 0;
  const std::uint64_t now = monotonic_ns();
  const bool acknowledged = settings_.pub_qos != codec::QoS::at_most_once;
  const auto stage = settings_.pub_qos == codec::QoS::at_least_once
                         ? InflightWindow::Stage::await_puback
                         : InflightWindow::Stage::await_pubrec;
  while (n < max_messages && can_publish() && out_.size() < max_output) {
    std::uint8_t* packet = out_.extend(publish_.size());
    std::memcpy(packet, publish_.data(), publish_.size());
    if (acknowledged) {
      const std::uint16_t id = *window_.acquire(stage, now);  // can_publish() checked room
      packet[packet_id_offset_] = static_cast<std::uint8_t>(id >> 8);
      packet[packet_id_offset_ + 1] = static_cast<std::uint8_t>(id);
    }
    patch_payload(packet + payload_offset_, sequence_++, now);
    --remaining_;
    ++n;
  }
  if (n == 0) return 0;
  Counters& counters = metrics_.counters;
  counters.sent.add(n);
  if (acknowledged) counters.inflight.add(n);
  if (counters.first_send_ns.load() == 0) counters.first_send_ns.set(now);
  counters.last_send_ns.set(now);
  if (remaining_ == 0) finish_publishing();
  return n;
}

void Connection::flush(std::uint64_t now) {
  if (!wants_flush()) return;
  if (ws_ && wire_.empty() && ws_->open()) {
    // What MQTT queued becomes one frame only once the last one is out, so at most
    // two batches wait here and publish()'s bound on out_ keeps holding.
    ws_->frame(out_, wire_);
    // After the DISCONNECT, the closing handshake [RFC 6455 §7.1.2].
    if (state_ == State::disconnecting) ws_->close(wire_);
  }
  OutBuffer& pending = wire();
  if (pending.empty()) return;
  const long n = transmit(pending.data(), pending.size());
  if (n < 0) return;  // failed
  if (n == 0) {
    write_blocked_ = true;
    return;
  }
  pending.consume(static_cast<std::size_t>(n));
  last_sent_ns_ = now;
  // A short write means the socket buffer is full: wait for EPOLLOUT rather than
  // spin on EAGAIN.
  if (!pending.empty()) write_blocked_ = true;
  if (pending.empty() && out_.empty() && state_ == State::disconnecting && !shut_down_) {
    // DISCONNECT is out: close our side [MQTT-3.14.4-2] and read until the broker
    // closes its own, so no late acknowledgement turns into a connection reset.
    if (tls_) tls_->close_notify();
    ::shutdown(fd_, SHUT_WR);
    shut_down_ = true;
  }
}

void Connection::disconnect(std::uint64_t now) {
  switch (state_) {
    case State::idle:
      state_ = State::closed;
      break;
    case State::tcp_connecting:
    case State::tls_handshaking:
    case State::ws_handshaking:
    case State::mqtt_connecting:
    case State::subscribing:
      // The run ended first (-d shorter than the ramp, Ctrl-C): not a failure of the
      // broker; the summary reports these as never connected.
      close_socket();
      state_ = State::closed;
      finish_publishing();
      break;
    case State::ready:
      // [MQTT-3.14.4-3] a Normal Disconnection: the broker discards any Will.
      out_.append(settings_.templates.disconnect.data(), settings_.templates.disconnect.size());
      state_ = State::disconnecting;
      started_ns_ = now;
      finish_publishing();
      break;
    case State::disconnecting:
    case State::closed:
      break;
  }
}

void Connection::fail(std::string_view why) {
  if (state_ == State::closed) return;
  Counters& counters = metrics_.counters;
  const std::size_t role = role_index(spec_.role);
  if (state_ == State::ready) {
    counters.lost[role].add();
  } else if (state_ != State::disconnecting) {
    counters.failed[role].add();
  }
  counters.errors.add();
  counters.inflight.sub(window_.size());
  errors_.report(spec_.client_id, why);
  finish_publishing();
  close_socket();
  state_ = State::closed;
}

void Connection::finish_publishing() noexcept {
  if (spec_.role != Role::pub || finished_) return;
  finished_ = true;
  metrics_.counters.publishers_finished.add();
}

void Connection::close_socket() noexcept {
  if (fd_ < 0) return;
  ws_.reset();
  tls_.reset();
  ::close(fd_);
  fd_ = -1;
  out_.clear();
  wire_.clear();
  write_blocked_ = false;
  tls_wants_write_ = false;
}

void Connection::mark_ready(std::uint64_t now) {
  state_ = State::ready;
  was_ready_ = true;
  metrics_.counters.ready[role_index(spec_.role)].add();
  metrics_.counters.last_ready_ns.set(now);
  if (spec_.role == Role::pub && remaining_ == 0) finish_publishing();
}

}  // namespace cicada::bench
