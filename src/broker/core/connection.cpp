// Connection I/O: lazy reads into the parser, corked gathered writes, closing; through
// the connection's StreamLayer (TLS, WebSocket) when it has one.
#include "connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include <cicada/codec/encode.hpp>

#include "net/websocket_error.hpp"
#include "worker.hpp"

namespace cicada::broker {

namespace asio = boost::asio;

Connection::Connection(Worker& worker, net::Socket socket, std::shared_ptr<ListenerInfo> listener,
                       std::unique_ptr<net::StreamLayer> layer)
    : worker_(worker),
      socket_(std::move(socket)),
      layer_(std::move(layer)),
      listener_(std::move(listener)),
      parser_({.max_packet_size = worker.config().max_packet_size, .buffer_size = 4096}) {
  boost::system::error_code error;
  peer_ = socket_.remote_endpoint(error);
  socket_.non_blocking(true, error);
  socket_.set_option(asio::ip::tcp::no_delay(true), error);
  last_packet_at_ = worker.now();
  if (listener_) listener_->connections.fetch_add(1, std::memory_order_relaxed);
}

Connection::~Connection() {
  if (listener_) listener_->connections.fetch_sub(1, std::memory_order_relaxed);
}

std::string Connection::peer() const {
  if (peer_.port() == 0) return {};  // remote_endpoint() failed at accept
  return peer_.address().to_string() + ":" + std::to_string(peer_.port());
}

AccessRequest Connection::access_request(std::string topic, Action action, codec::QoS qos,
                                         bool retain) const {
  return AccessRequest{.client_id = client_id(),
                       .username = username(),
                       .topic = std::move(topic),
                       .action = action,
                       .qos = static_cast<std::uint8_t>(qos),
                       .retain = retain,
                       .superuser = superuser_,
                       .peer = peer_,
                       .client = identity_ ? identity_->auth.get() : nullptr};
}

void Connection::start() {
  wait_readable();
}

void Connection::wait_readable(bool as_layer_asks) {
  if (state_ == State::closing || state_ == State::closed || read_paused_ || read_wait_pending_)
    return;
  read_wait_pending_ = true;
  if (layer_ && layer_->read_buffered()) {
    // Decrypted bytes wait inside the layer: the socket may never signal them.
    asio::post(worker_.io(), [self = shared_from_this()] {
      self->read_wait_pending_ = false;
      if (!self->closed()) self->on_readable();
    });
    return;
  }
  // A TLS read may need the socket writable first (a handshake message to send).
  const bool write = as_layer_asks && layer_->read_wants() == net::StreamLayer::Wait::writable;
  socket_.async_wait(write ? net::Socket::wait_write : net::Socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& error) {
                       self->read_wait_pending_ = false;
                       if (error) {
                         if (!self->closed()) self->close("connection lost");
                         return;
                       }
                       self->on_readable();
                     });
}

void Connection::on_readable() {
  if (worker_.throttled() && state_ == State::connected) {
    // Another worker has too many of this one's deliveries waiting: leave the bytes
    // in the socket, so the publisher slows down, until it catches up.
    worker_.stall(weak_from_this());
    return;
  }
  if (!drain_packets()) return;
  // Read what is there, without blocking, straight into the parser's buffer.
  for (int reads = 0; reads < 16; ++reads) {
    std::span<std::uint8_t> space = parser_.prepare(2048);
    boost::system::error_code error;
    std::size_t n = layer_ ? layer_->read_some(socket_, space, error)
                           : socket_.read_some(asio::buffer(space.data(), space.size()), error);
    // A read may leave the layer with bytes of its own to send (a WebSocket Pong or
    // Close) while this connection has none: they go out with the next flush.
    if (layer_ && layer_->write_pending()) schedule_flush();
    if (error == asio::error::would_block || error == asio::error::try_again) {
      if (layer_) {
        parser_.release_if_idle();
        wait_readable(true);
        return;
      }
      break;
    }
    if (error) {
      // A failed TLS handshake or WebSocket upgrade ends here too, at debug level with
      // OpenSSL's reason or the WebSocketError's name.
      const char* what = "read error: ";
      if (layer_ && state_ == State::awaiting_connect) {
        what = error.category() == net::websocket_category() ? "WebSocket error before CONNECT: "
                                                             : "TLS error before CONNECT: ";
      }
      close(error == asio::error::eof ? "closed by client" : what + error.message());
      return;
    }
    parser_.commit(n);
    WorkerStats::add(worker_.stats().bytes_received, n);
    if (!drain_packets()) return;
    if (n < space.size() && !(layer_ && layer_->read_buffered())) break;
  }
  parser_.release_if_idle();
  wait_readable();
}

bool Connection::drain_packets() {
  // One slot for every packet of this call: decoded in place, released on return,
  // before the next read prepares the parser's buffer.
  codec::ParsedPacket parsed;
  while (true) {
    if (state_ == State::closing || state_ == State::closed || read_paused_) return false;
    // Back-pressure, never a drop: a client over its publish rate is simply not read
    // until its bucket refills, so TCP slows it down and nothing it sent is lost.
    if (publish_limit_ && publish_rate_exceeded()) return false;
    auto next = parser_.next_into(parsed);
    if (!next) {
      on_decode_error(next.error());
      return false;
    }
    if (!*next) return true;
    WorkerStats::add(worker_.stats().packets_received);
    last_packet_at_ = worker_.now();
    if (publish_limit_ && std::holds_alternative<codec::Publish>(parsed.packet)) {
      take_publish_tokens(parsed.wire_size);
    }
    handle(parsed);
  }
}

void Connection::take_publish_tokens(std::size_t wire_size) {
  // The precise clock: the coarse one may lag the timer that woke us by a few ms.
  const TimePoint now = Clock::now();
  if (publish_limit_->messages) publish_limit_->messages->take(1, now);
  if (publish_limit_->bytes) publish_limit_->bytes->take(wire_size, now);
}

bool Connection::publish_rate_exceeded() {
  PublishLimit& limit = *publish_limit_;
  if (limit.wake_pending) return true;
  const TimePoint now = Clock::now();
  const bool messages_ok = !limit.messages || limit.messages->ready(now);
  const bool bytes_ok = !limit.bytes || limit.bytes->ready(now);
  if (messages_ok && bytes_ok) return false;
  TimePoint due = now;
  if (!messages_ok) due = std::max(due, limit.messages->ready_at());
  if (!bytes_ok) due = std::max(due, limit.bytes->ready_at());
  worker_.stats().publish_rate_pauses.fetch_add(1, std::memory_order_relaxed);
  if (!limit.logged) {
    limit.logged = true;
    spdlog::info(
        "client {} ({}): publishing faster than {}: its socket is read more slowly from now on "
        "(logged once per connection)",
        client_id(), peer(), messages_ok ? "mqtt.bytes_rate" : "mqtt.messages_rate");
  }
  limit.wake_pending = true;
  worker_.run_at(due, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->closed() || !self->publish_limit_) return;
    self->publish_limit_->wake_pending = false;
    // The packets that waited in the socket meanwhile: the client was not idle.
    self->last_packet_at_ = self->worker_.now();
    self->on_readable();
  });
  return true;
}

void Connection::resume_after_stall() {
  if (state_ == State::closing || state_ == State::closed) return;
  on_readable();
}

void Connection::resume_reading() {
  if (!read_paused_) return;
  read_paused_ = false;
  asio::post(worker_.io(), [self = shared_from_this()] {
    if (!self->closed()) self->on_readable();
  });
}

Connection::SendResult Connection::send_publish(const codec::Publish& original,
                                                const MessagePtr& message) {
  if (state_ == State::closing || state_ == State::closed) return SendResult::overloaded;
  std::size_t header = codec::publish_header_size(original, version_);
  const std::size_t full_size = header + original.payload.size();
  // [MQTT-3.1.2-25] never more than the client's Maximum Packet Size.
  if (full_size > client_max_packet_size_) {
    worker_.stats().too_large_drops.fetch_add(1, std::memory_order_relaxed);
    return SendResult::discarded;
  }
  const std::uint64_t limit = worker_.config().max_outbound_bytes;
  // A subscriber that cannot keep up loses QoS 0 first (DESIGN.md) ...
  if (original.qos == codec::QoS::at_most_once && queued_bytes() > limit / 2) {
    worker_.stats().slow_consumer_qos0_drops.fetch_add(1, std::memory_order_relaxed);
    return SendResult::discarded;
  }
  // ... then is disconnected with a clear reason.
  if (queued_bytes() > limit) {
    worker_.stats().slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
    close("slow consumer: unsent output above mqtt.max_outbound_bytes",
          codec::ReasonCode::quota_exceeded);
    return SendResult::overloaded;
  }
  // Topics this client receives most travel as aliases when it allows them. The
  // packet is sent for sure from here on, so the client learns every mapping chosen;
  // a Topic Alias property adds 3 bytes, which must still fit.
  std::optional<codec::Publish> aliased;
  constexpr std::size_t alias_property_size = 3;
  if (outbound_aliases_ && full_size + alias_property_size <= client_max_packet_size_) {
    auto choice = outbound_aliases_->choose(original.topic);
    if (choice.alias != 0) {
      aliased = original;
      aliased->properties.topic_alias = choice.alias;
      if (!choice.send_topic) aliased->topic = {};
    }
  }
  const codec::Publish& publish = aliased ? *aliased : original;
  if (aliased) header = codec::publish_header_size(publish, version_);
  Output& out = output();
  const std::size_t offset = out.bytes.size();
  // Small payloads are copied: cheaper than an iovec and a reference held on the
  // message (whose count other workers touch too), and they keep writes contiguous.
  constexpr std::size_t copy_payload_up_to = 512;
  const bool copy = publish.payload.size() <= copy_payload_up_to;
  out.bytes.resize(offset + header + (copy ? publish.payload.size() : 0));
  auto* at = reinterpret_cast<std::uint8_t*>(out.bytes.data()) + offset;
  codec::encode_publish_header(publish, version_, {at, header});
  if (copy) {
    if (!publish.payload.empty())
      std::memcpy(at + header, publish.payload.data(), publish.payload.size());
  } else {
    out.splices.push_back({out.bytes.size(), message, publish.payload});
    out.payload_bytes += publish.payload.size();
  }
  WorkerStats::add(worker_.stats().packets_sent);
  WorkerStats::add(worker_.stats().publish_bytes_sent, publish.payload.size());
  schedule_flush();
  return SendResult::sent;
}

void Connection::send_packet(const codec::Packet& packet) {
  if (state_ == State::closed) return;
  const std::size_t size = codec::encoded_size(packet, version_);
  Output& out = output();
  const std::size_t offset = out.bytes.size();
  out.bytes.resize(offset + size);
  codec::encode(packet, version_,
                {reinterpret_cast<std::uint8_t*>(out.bytes.data()) + offset, size});
  WorkerStats::add(worker_.stats().packets_sent);
  schedule_flush();
}

void Connection::schedule_flush() {
  // Corking: everything queued during this loop turn goes out in one write.
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  asio::post(worker_.io(), [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->flush();
  });
}

int Connection::gather_output(iovec* iov, int max_iov, std::size_t& total) const {
  const Output& out = *out_;
  int count = 0;
  total = 0;
  std::size_t from = out.sent;
  auto add = [&](const char* data, std::size_t size) {
    iov[count].iov_base = const_cast<char*>(data);
    iov[count].iov_len = size;
    total += size;
    ++count;
  };
  std::size_t i = out.next_splice;
  for (; i < out.splices.size() && count + 2 <= max_iov; ++i) {
    const Splice& splice = out.splices[i];
    if (splice.offset > from) add(out.bytes.data() + from, splice.offset - from);
    const std::size_t skip = i == out.next_splice ? out.splice_sent : 0;
    add(splice.payload.data() + skip, splice.payload.size() - skip);
    from = splice.offset;
  }
  // The bytes after the last splice, once every splice is in this write.
  if (i == out.splices.size() && count < max_iov && from < out.bytes.size()) {
    add(out.bytes.data() + from, out.bytes.size() - from);
  }
  return count;
}

void Connection::discard_output() {
  out_.reset();
}

void Connection::flush() {
  if (write_in_flight_ || state_ == State::closed) return;
  if (layer_) return flush_layer();
  // Write as much as the socket takes now, in gathered writes; wait for it to become
  // writable only when it is full.
  constexpr int max_iov = 256;
  iovec iov[max_iov];
  while (queued_bytes() > 0) {
    std::size_t total = 0;
    const int count = gather_output(iov, max_iov, total);
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t n = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      discard_output();
      close(std::string("write error: ") + std::strerror(errno));
      finish_close();
      return;
    }
    consume_output(static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < total) break;  // the socket's buffer is full
  }
  if (queued_bytes() == 0) {
    if (state_ == State::closing) finish_close();
    return;
  }
  wait_writable(net::StreamLayer::Wait::writable);
}

void Connection::flush_layer() {
  // As flush(), through the layer, which encrypts what it takes (and may hold some of
  // it until the socket accepts it).
  constexpr int max_iov = 256;
  iovec iov[max_iov];
  while (output_pending()) {
    std::size_t total = 0;
    const int count = queued_bytes() > 0 ? gather_output(iov, max_iov, total) : 0;
    boost::system::error_code error;
    const std::size_t n =
        layer_->write_some(socket_, {iov, static_cast<std::size_t>(count)}, error);
    if (error && error != asio::error::would_block) {
      discard_output();
      close("write error: " + error.message());
      finish_close();
      return;
    }
    consume_output(n);
    if (error || layer_->write_pending()) return wait_writable(layer_->write_wants());
  }
  if (state_ == State::closing) finish_close();
}

void Connection::wait_writable(net::StreamLayer::Wait wait) {
  write_in_flight_ = true;
  socket_.async_wait(
      wait == net::StreamLayer::Wait::writable ? net::Socket::wait_write : net::Socket::wait_read,
      [self = shared_from_this()](const boost::system::error_code& error) {
        self->write_in_flight_ = false;
        if (error) {
          if (!self->closed()) {
            self->close("write error: " + error.message());
            self->finish_close();
          }
          return;
        }
        self->flush();
      });
}

void Connection::consume_output(std::size_t n) {
  WorkerStats::add(worker_.stats().bytes_sent, n);
  Output& out = *out_;
  while (n > 0) {
    const std::size_t until = out.next_splice < out.splices.size()
                                  ? out.splices[out.next_splice].offset
                                  : out.bytes.size();
    if (out.sent < until) {
      const std::size_t step = std::min(n, until - out.sent);
      out.sent += step;
      n -= step;
      continue;
    }
    Splice& splice = out.splices[out.next_splice];
    const std::size_t step = std::min(n, splice.payload.size() - out.splice_sent);
    out.splice_sent += step;
    out.payload_bytes -= step;
    n -= step;
    if (out.splice_sent == splice.payload.size()) {
      splice.message.reset();  // the payload is written: let the message go
      ++out.next_splice;
      out.splice_sent = 0;
    }
  }
  if (out.sent == out.bytes.size() && out.next_splice == out.splices.size()) {
    // Everything is written: give the output back, so an idle connection holds none
    // (a busy one allocates again once per flush, not per message).
    out_.reset();
  } else if (out.sent >= 64 * 1024 && out.sent * 2 >= out.bytes.size()) {
    // A client that keeps the socket full: drop the written prefix now and then, so
    // the buffer stays bounded by what is unsent.
    out.bytes.erase(0, out.sent);
    out.splices.erase(out.splices.begin(),
                      out.splices.begin() + static_cast<std::ptrdiff_t>(out.next_splice));
    for (Splice& splice : out.splices)
      splice.offset -= out.sent;
    out.sent = 0;
    out.next_splice = 0;
  }
}

void Connection::close(std::string_view why, std::optional<codec::ReasonCode> reason) {
  if (state_ == State::closing || state_ == State::closed) return;
  const bool established = state_ == State::connected;
  if (established) WorkerStats::subtract(worker_.stats().clients_connected);
  // [MQTT-3.14.0-1] no DISCONNECT before the CONNACK: a connection not yet accepted
  // just closes.
  if (reason && v5() && established) {
    codec::Disconnect disconnect{.reason_code = *reason};
    send_packet(disconnect);
  }
  // One line per connection that ends for a reason worth an operator's attention;
  // ordinary disconnections only at debug level.
  const auto level = reason && *reason != codec::ReasonCode::server_shutting_down
                         ? spdlog::level::info
                         : spdlog::level::debug;
  if (spdlog::should_log(level)) {  // the peer is formatted only for a line that is written
    spdlog::log(level, "client {} ({}) disconnected: {}", client_id().empty() ? "-" : client_id(),
                peer(), why);
  }
  // The session and the Will are dealt with now; the socket closes once the output
  // (the DISCONNECT above included) is written.
  if (session_ != nullptr) {
    // The session goes offline now, but what follows (the Will, the end of a
    // session that expires at once) runs on a later turn of the loop: close() may be
    // called from inside that very session (a slow consumer found while delivering).
    Session& session = *session_;
    client_id_ = session.client_id();  // for the lines logged while closing
    session_ = nullptr;
    session.detach(worker_.now());
    asio::post(worker_.io(), [worker = &worker_, handle = session.handle(), will = std::move(will_),
                              delay = will_delay_]() mutable {
      worker->session_closed(handle, std::move(will), delay);
    });
  }
  last_packet_at_ = worker_.now();  // from now on: when closing began
  state_ = State::closing;
  if (!write_in_flight_ && !output_pending()) finish_close();
}

void Connection::finish_close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  if (layer_) layer_->shutdown(socket_);  // close_notify, as far as it goes now
  boost::system::error_code ignored;
  socket_.shutdown(net::Socket::shutdown_both, ignored);
  socket_.close(ignored);
  worker_.forget(*this);
}

void Connection::tick(TimePoint now) {
  if (state_ == State::closing) {
    // A peer that does not read its last bytes does not keep the socket for ever.
    if (now - last_packet_at_ > std::chrono::seconds(5)) finish_close();
    return;
  }
  if (state_ == State::awaiting_connect) {
    // A socket that never sends CONNECT is closed after mqtt.idle_timeout, so a burst
    // of idle sockets holds its connection slots for that long at most.
    if (now - last_packet_at_ > std::chrono::milliseconds(worker_.config().idle_timeout_ms)) {
      worker_.stats().connect_timeouts.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("connection {}: no CONNECT within mqtt.idle_timeout, closed", peer());
      close("no CONNECT within mqtt.idle_timeout");
    }
    return;
  }
  if (state_ == State::connected && identity_ && identity_->auth && identity_->auth->expire_at) {
    // The authentication answer's expire_at / the JWT's exp, checked on the worker's
    // once-a-second tick (at most a second late): no timer per client. EMQX disconnects
    // such a client with not_authorized (0x87); MQTT 5 has no closer code (0xA0 Maximum
    // connect time is a server-wide limit), so Cicada sends the same.
    if (unix_seconds_now() >= *identity_->auth->expire_at) {
      return close("authentication expired", codec::ReasonCode::not_authorized);
    }
  }
  if (state_ != State::connected || keep_alive_ == 0) return;
  // A client we stopped reading (publish rate) may have its PINGREQs waiting in the
  // socket: not a keep-alive failure.
  if (publish_limit_ && publish_limit_->wake_pending) return;
  // [MQTT-3.1.2-24] (5.0: 3.1.2.10) nothing from the client for 1.5 x Keep Alive.
  if (now - last_packet_at_ > std::chrono::milliseconds(std::uint64_t{keep_alive_} * 1500)) {
    close("keep alive timeout", codec::ReasonCode::keep_alive_timeout);
  }
}

}  // namespace cicada::broker
