// Connection: one client's network connection on its worker: the socket, the
// incremental parser, the corked output queue, and the MQTT protocol handling of the
// packets it receives (CONNECT, PUBLISH, SUBSCRIBE, ...). It is attached to a
// Session once the CONNECT is accepted.
// Reading is lazy: the connection waits for readability and only then takes a
// receive buffer, which it gives back when no partial packet is pending, so an idle
// connection holds none. Writing is corked: packets are queued and flushed once per
// loop turn in one gathered write; a PUBLISH's payload is written from the shared
// message, never copied.
// A TLS or WebSocket connection has a net::StreamLayer between it and the socket;
// a plain TCP connection has none and pays for it only a null pointer.
// Thread-safety: single owner (its worker); other threads reach it through the worker.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <cicada/codec/parser.hpp>
#include <cicada/protocol/topic_aliases.hpp>

#include "../auth/client_auth.hpp"
#include "../auth/hooks.hpp"
#include "listener_info.hpp"
#include "message.hpp"
#include "net/stream_layer.hpp"
#include "session.hpp"
#include "token_bucket.hpp"

namespace cicada::broker {

class Worker;

class Connection final : public SessionSink, public std::enable_shared_from_this<Connection> {
 public:
  // `listener` counts the connection among its open connections while it lives;
  // `layer` is null for plain TCP.
  Connection(Worker& worker, net::Socket socket, std::shared_ptr<ListenerInfo> listener,
             std::unique_ptr<net::StreamLayer> layer = nullptr);
  ~Connection() override;

  void start();
  // Closes the connection; MQTT 5 clients first get DISCONNECT with `reason`
  // when one is given and the connection is established [MQTT-4.13.1-1].
  void close(std::string_view why, std::optional<codec::ReasonCode> reason = std::nullopt);
  // Called by the worker's once-a-second tick: keep-alive and CONNECT timeout.
  void tick(TimePoint now);

  // SessionSink
  SendResult send_publish(const codec::Publish& publish, const MessagePtr& message) override;
  void send_packet(const codec::Packet& packet) override;

  // Called by the worker once the session is here (found, created, or moved from
  // another worker): sends CONNACK and attaches. `present`: it existed before.
  void on_session_ready(Session& session, bool present);
  // Called by the worker when another connection takes this client's session over
  // [MQTT-3.1.4-3]. The Will is published now if the session ends or the Will has no
  // delay; a delayed Will of a resumed session is cancelled [MQTT-3.1.3-9].
  void kick_for_takeover(bool session_ends);

  // The worker stopped being throttled: read what waited meanwhile.
  void resume_after_stall();

  // While a session is attached its handle holds the id; the connection's own copy is
  // for the time before (CONNECT, authentication) and after (closing).
  const std::string& client_id() const noexcept {
    return session_ != nullptr ? session_->client_id() : client_id_;
  }
  bool closed() const noexcept { return state_ == State::closed; }
  Session* session() const noexcept { return session_; }
  // Its index in the worker's list of connections, kept by the worker (adopt/forget).
  std::uint32_t worker_slot() const noexcept { return worker_slot_; }
  void set_worker_slot(std::uint32_t slot) noexcept { worker_slot_ = slot; }

 private:
  enum class State : std::uint8_t { awaiting_connect, authenticating, connected, closing, closed };

  // I/O
  // `as_layer_asks`: the layer's read would block, so wait for the readiness it wants.
  void wait_readable(bool as_layer_asks = false);
  void on_readable();
  void schedule_flush();
  void flush();
  void flush_layer();  // flush() through layer_
  void wait_writable(net::StreamLayer::Wait wait);
  // Fills `iov` with the next unsent output; returns the count, `total` their bytes.
  int gather_output(iovec* iov, int max_iov, std::size_t& total) const;
  void discard_output();
  // Output the socket has not taken yet, the layer's included.
  bool output_pending() const noexcept {
    return queued_bytes() > 0 || (layer_ && layer_->write_pending());
  }
  void finish_close();
  // Unsent output, payloads included: what mqtt.max_outbound_bytes bounds.
  std::size_t queued_bytes() const noexcept {
    return out_ ? out_->bytes.size() - out_->sent + out_->payload_bytes : 0;
  }
  // Marks `n` more bytes of the output stream as written.
  void consume_output(std::size_t n);

  // Protocol
  void handle(codec::ParsedPacket& parsed);
  void on_decode_error(const codec::DecodeError& error);
  bool drain_packets();
  void resume_reading();
  void on_connect(codec::Connect& connect, const SharedBuffer& owner);
  void refuse(codec::ReasonCode reason, std::string_view why);
  // A failed authentication: refused after node.auth_failure_delay.
  void refuse_after_delay(codec::ReasonCode reason);
  void continue_connect();
  MessagePtr build_will(const codec::Will& will) const;
  void on_publish(codec::Publish& publish, const SharedBuffer& owner);
  // After authorization: acknowledges and routes (or refuses) the PUBLISH.
  void finish_publish(codec::Publish& publish, const SharedBuffer& owner, bool allowed);
  void route(codec::Publish& publish, const SharedBuffer& owner);
  // PUBACK (QoS 1) or PUBREC (QoS 2) with `code`; nothing for QoS 0.
  void acknowledge(const codec::Publish& publish, codec::ReasonCode code);
  void on_subscribe(const codec::Subscribe& subscribe);
  // After authorization: `allowed[i]` answers subscribe.subscriptions[i].
  void finish_subscribe(const codec::Subscribe& subscribe, const std::vector<bool>& allowed);
  // A retained message due to a new subscription, at most at the granted QoS.
  struct RetainedMessage {
    MessagePtr message;
    codec::QoS qos;
    bool allowed;  // false: not known yet (its topic is asked about)
  };
  // Delivers them in order once every one not yet allowed has been authorized (a read
  // of its topic); the denied ones are skipped. connection_retained.cpp.
  void deliver_retained(std::vector<RetainedMessage> messages, std::uint32_t identifier);
  void send_retained(const std::vector<RetainedMessage>& messages, std::uint32_t identifier);
  void on_unsubscribe(const codec::Unsubscribe& unsubscribe);
  void on_disconnect(const codec::Disconnect& disconnect);
  void protocol_violation(codec::ReasonCode reason, std::string_view why);
  // Overload limits. A refusal by `kind` is counted every time and logged once per
  // connection.
  enum class Refusal : std::uint8_t { subscriptions = 1, topic_levels = 2, topic_length = 4 };
  void note_refusal(Refusal kind, std::string_view what);
  // mqtt.messages_rate / bytes_rate: true when this client must wait before another
  // packet is read; the wake-up is then scheduled on the worker.
  bool publish_rate_exceeded();
  void take_publish_tokens(std::size_t wire_size);
  void publish_will();
  bool v5() const noexcept { return version_ == codec::ProtocolVersion::v5; }

  // "address:port" of the peer, for logs and authentication requests.
  std::string peer() const;
  // An authorization question about this client (PUBLISH, SUBSCRIBE, its Will).
  AccessRequest access_request(std::string topic, Action action, codec::QoS qos, bool retain) const;

  // Members are ordered so that the small ones share words: every byte here is paid
  // once per connection (docs/performance.md, idle connections).
  Worker& worker_;
  net::Socket socket_;
  std::unique_ptr<net::StreamLayer> layer_;  // null for plain TCP
  std::shared_ptr<ListenerInfo> listener_;
  codec::Parser parser_;

  // Output: bytes of whole packets and PUBLISH headers (small payloads copied in),
  // with larger payloads spliced in at their offsets, written straight from the
  // shared message. `sent` bytes of `bytes`, the splices before `next_splice` and
  // `splice_sent` bytes of the next one are written. It exists only while output is
  // unsent: an idle connection holds none of it (88 bytes), a busy one allocates it
  // once per flush that empties it, beside the buffer it allocated anyway.
  struct Splice {
    std::size_t offset;  // position in bytes after which the payload goes
    MessagePtr message;  // keeps the payload alive until written
    std::string_view payload;
  };
  struct Output {
    std::string bytes;
    std::vector<Splice> splices;
    std::size_t sent = 0;
    std::size_t next_splice = 0;
    std::size_t splice_sent = 0;
    std::size_t payload_bytes = 0;  // unsent payload bytes of the splices
  };
  Output& output() {
    if (!out_) out_ = std::make_unique<Output>();
    return *out_;
  }
  std::unique_ptr<Output> out_;

  // Session and CONNECT state
  // Emptied while a session is attached (client_id()): an id longer than the string's
  // inline buffer, as most are, would otherwise be on the heap twice per connection.
  std::string client_id_;
  // Only for clients that give a user name or whose authentication answer gave them
  // rules or an expiry (HTTP acl / expire_at, a JWT): kept off the connections that have
  // neither, behind one pointer (docs/performance.md, idle connections).
  struct Identity {
    std::optional<std::string> username;
    std::shared_ptr<const ClientAuth> auth;
  };
  Identity& identity() {
    if (!identity_) identity_ = std::make_unique<Identity>();
    return *identity_;
  }
  std::optional<std::string> username() const {
    return identity_ ? identity_->username : std::nullopt;
  }
  std::unique_ptr<Identity> identity_;
  Session* session_ = nullptr;  // owned by the worker
  // The CONNECT while authenticating, with the receive buffer its views point into: on
  // the heap, one pointer, since it is large and idle connections are many.
  struct PendingConnect : codec::Connect {
    SharedBuffer owner;
  };
  std::unique_ptr<PendingConnect> connect_;
  MessagePtr will_;  // compact copy of the Will, once connected
  // While awaiting CONNECT: when the socket was accepted (no packet has come yet;
  // the first one is the CONNECT, which ends that state); while connected: when the
  // last packet came (keep-alive); while closing: when close() began (the flush grace
  // period). The states never overlap.
  TimePoint last_packet_at_;
  // Each table only once used: the inbound one once the client sends a Topic Alias,
  // the outbound one for clients that accept aliases. Most do neither.
  std::unique_ptr<protocol::InboundTopicAliases> inbound_aliases_;
  std::unique_ptr<protocol::OutboundTopicAliases> outbound_aliases_;

  // Kept as the address itself (28 bytes, no allocation); formatted when needed.
  boost::asio::ip::tcp::endpoint peer_;
  State state_ = State::awaiting_connect;
  codec::ProtocolVersion version_ = codec::ProtocolVersion::v3_1_1;
  std::uint16_t keep_alive_ = 0;  // seconds; 0 = none
  std::uint32_t will_delay_ = 0;
  std::uint32_t client_max_packet_size_ = 268'435'460;
  std::uint32_t worker_slot_ = 0;
  std::uint16_t client_receive_maximum_ = 65535;
  // One bit each: a bool would take a byte of every connection.
  bool write_in_flight_ : 1 = false;  // waiting for the socket to take more
  bool flush_scheduled_ : 1 = false;
  bool read_paused_ : 1 = false;
  // A wait for readability is pending: never a second one, which would hold another
  // reactor operation (~160 bytes) for the socket and run on_readable twice.
  bool read_wait_pending_ : 1 = false;
  bool clean_start_ : 1 = true;
  bool superuser_ : 1 = false;  // authentication said so: authorization is skipped
  bool assigned_id_ : 1 = false;
  bool server_keep_alive_changed_ : 1 = false;
  bool connect_expiry_zero_ : 1 = false;  // CONNECT's Session Expiry Interval was 0
  std::uint8_t refusals_logged_ : 3 = 0;  // Refusal bits, beside the flags above
  // Only when mqtt.messages_rate or mqtt.bytes_rate is set: kept off other connections.
  struct PublishLimit {
    std::optional<TokenBucket> messages;
    std::optional<TokenBucket> bytes;
    bool wake_pending = false;  // a run_at() on the worker will read again
    bool logged = false;
  };
  std::unique_ptr<PublishLimit> publish_limit_;
};

}  // namespace cicada::broker
