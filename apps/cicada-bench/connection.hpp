// Connection: one MQTT client of the benchmark on a non-blocking socket. It runs the
// client side of the protocol (CONNECT, SUBSCRIBE, QoS 1/2 acknowledgements in both
// directions, keep-alive, DISCONNECT) and the benchmark's part (publishing from a
// pre-encoded template, measuring what arrives), and queues its output; the worker
// owns the epoll registration, decides when to publish and flushes once per loop turn.
//
// The per-message paths allocate nothing: publish() copies the template into the
// output buffer and patches packet identifier, sequence number and send time in place;
// on_readable() reads into the parser's reused buffer, and a received PUBLISH is
// measured through views into it. Only a stream seen for the first time allocates.
//
// Thread-safety: single owner (its worker).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/codec/packets.hpp>
#include <cicada/codec/parser.hpp>

#include "inflight_window.hpp"
#include "metrics.hpp"
#include "out_buffer.hpp"
#include "socket.hpp"
#include "tls_stream.hpp"
#include "websocket_stream.hpp"

namespace cicada::bench {

// Small packets every connection sends, encoded once by the codec; acknowledgements
// carry their packet identifier in bytes 2-3.
struct PacketTemplates {
  std::string puback, pubrec, pubrel, pubcomp, pingreq, disconnect;
};
PacketTemplates make_templates(codec::ProtocolVersion version);

// What every connection of a run shares; read-only once the workers start.
struct ClientSettings {
  SocketAddress broker;
  // mqtts://: every connection runs TLS over its socket, the certificate checked
  // against `tls_host` (the host the user named) unless --insecure.
  std::shared_ptr<const TlsClientContext> tls;
  std::string tls_host;
  // ws:// and wss://: MQTT in WebSocket frames (over TLS for wss), after an upgrade
  // request for `ws_path` with `ws_host` in its Host header.
  bool websocket = false;
  std::string ws_host;
  std::string ws_path = "/mqtt";
  std::vector<SocketAddress> sources;  // --ifaddr, used round-robin by client ordinal
  codec::ProtocolVersion version = codec::ProtocolVersion::v5;
  std::uint16_t keep_alive = 300;
  bool clean_start = true;
  std::optional<std::uint32_t> session_expiry;
  std::optional<std::string> username;
  std::optional<std::string> password;
  codec::QoS pub_qos = codec::QoS::at_most_once;
  codec::QoS sub_qos = codec::QoS::at_most_once;
  bool retain = false;
  std::size_t payload_size = 256;
  std::uint32_t run_id = 0;
  std::uint16_t inflight = 64;
  std::uint64_t connect_timeout_ns = 10'000'000'000;
  // Where this run's streams start: 0 when subscribers are in place before publishers
  // start (pubsub), so a missing head counts as loss; nullopt: at the first seen.
  std::optional<std::uint64_t> stream_first;
  PacketTemplates templates;
};

// One client.
struct ClientSpec {
  Role role = Role::conn;
  std::uint8_t group = 0;     // groups start in order: subscribers before publishers
  std::uint32_t ordinal = 0;  // position among the clients of its group, over all workers
  std::uint64_t index = 0;    // %i
  std::string client_id;
  std::string topic;  // publish topic, or subscription filter
  std::uint64_t limit = UINT64_MAX;
};

class Connection {
 public:
  enum class State : std::uint8_t {
    idle,
    tcp_connecting,
    tls_handshaking,  // mqtts:// and wss:// only
    ws_handshaking,   // ws:// and wss://: upgrade request sent, waiting for the 101
    mqtt_connecting,  // CONNECT sent, waiting for CONNACK
    subscribing,      // SUBSCRIBE sent, waiting for SUBACK
    ready,
    disconnecting,  // DISCONNECT queued, waiting for the broker to close
    closed,
  };

  Connection(const ClientSettings& settings, ClientSpec spec, WorkerMetrics& metrics,
             ErrorLog& errors);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the TCP connect; false when no socket could be opened (counted as failed).
  bool start(std::uint64_t now);
  // The socket became writable: the connect finished, or output can move again.
  void on_writable(std::uint64_t now);
  // The socket is readable (or in error): one recv, then every complete packet.
  void on_readable();
  // Once a second: time-outs and keep-alive.
  void on_second(std::uint64_t now);
  // Queues up to `max_messages` PUBLISH packets while can_publish() and the output
  // holds fewer than `max_output` bytes; returns how many.
  std::uint32_t publish(std::uint32_t max_messages, std::size_t max_output);
  // One send() of the queued output.
  void flush(std::uint64_t now);
  // Ends the connection: DISCONNECT and a graceful close when ready, else at once.
  void disconnect(std::uint64_t now);

  int fd() const noexcept { return fd_; }
  State state() const noexcept { return state_; }
  const ClientSpec& spec() const noexcept { return spec_; }
  bool closed() const noexcept { return state_ == State::closed; }
  // A ready publisher with messages left to send (counts towards the -I rate).
  bool publishing() const noexcept {
    return spec_.role == Role::pub && state_ == State::ready && remaining_ > 0;
  }
  bool can_publish() const noexcept {
    return publishing() && !write_blocked_ &&
           (settings_.pub_qos == codec::QoS::at_most_once || window_.can_acquire());
  }
  bool wants_flush() const noexcept {
    return fd_ >= 0 && !write_blocked_ && (!out_.empty() || !wire_.empty());
  }
  bool wants_writable() const noexcept {
    return state_ == State::tcp_connecting || (fd_ >= 0 && (write_blocked_ || tls_wants_write_));
  }
  std::uint64_t published() const noexcept { return sequence_; }
  // Reached the ready state at some point (a subscriber: its subscription was granted).
  bool was_ready() const noexcept { return was_ready_; }

 private:
  // connection.cpp: socket and lifecycle.
  void fail(std::string_view why);
  void finish_publishing() noexcept;
  void close_socket() noexcept;
  void mark_ready(std::uint64_t now);
  void queue_connect();
  // After TCP (and TLS): the WebSocket upgrade when asked for, else the CONNECT.
  void start_session(std::uint64_t now);
  // The bytes the next send() takes: the framed ones under WebSocket.
  OutBuffer& wire() noexcept { return ws_ ? wire_ : out_; }
  // TLS: drives the handshake; on success the CONNECT goes out.
  void continue_handshake(std::uint64_t now);
  // The broker ended the connection: the end of a DISCONNECT, or a failure (`why`).
  void on_closed(std::string_view why);
  // One read or write of the socket, through TLS when there is a session: bytes moved,
  // 0 when nothing can move now (`closed` when the broker ended the connection), or
  // -1 after fail().
  long receive(std::span<std::uint8_t> space, bool& closed);
  long transmit(const std::uint8_t* data, std::size_t size);
  // connection_packets.cpp: MQTT.
  void handle(const codec::Packet& packet, std::uint64_t now);
  void on_connack(const codec::Connack& connack, std::uint64_t now);
  void on_suback(const codec::Suback& suback, std::uint64_t now);
  void on_publish(const codec::Publish& publish, std::uint64_t now);
  void on_ack(std::uint16_t packet_id, codec::ReasonCode reason, InflightWindow::Stage expected,
              std::uint64_t now);
  void on_pubrec(const codec::Pubrec& pubrec, std::uint64_t now);
  void queue_ack(const std::string& packet, std::uint16_t packet_id);
  void build_publish_template();

  const ClientSettings& settings_;
  ClientSpec spec_;
  WorkerMetrics& metrics_;
  ErrorLog& errors_;

  int fd_ = -1;
  std::unique_ptr<TlsStream> tls_;
  std::unique_ptr<WebSocketStream> ws_;
  OutBuffer wire_;  // WebSocket only: framed output, sent before out_ is framed again
  State state_ = State::idle;
  bool write_blocked_ = false;
  bool tls_wants_write_ = false;  // the handshake (or a read) waits for room to write
  bool shut_down_ = false;        // our side is closed for writing
  bool finished_ = false;         // counted in publishers_finished
  bool was_ready_ = false;
  std::uint64_t started_ns_ = 0;
  std::uint64_t last_sent_ns_ = 0;
  std::uint64_t keep_alive_ns_ = 0;

  codec::Parser parser_;
  std::size_t read_size_;
  OutBuffer out_;
  InflightWindow window_;

  // PUBLISH template: the whole packet with placeholders, and where to patch it.
  std::vector<std::uint8_t> publish_;
  std::size_t packet_id_offset_ = 0;
  std::size_t payload_offset_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint64_t remaining_ = 0;
};

}  // namespace cicada::bench
