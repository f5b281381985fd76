// WebSocket for cicada-bench's ws:// and wss:// connections (RFC 6455, client side),
// between the connection's byte stream (plain TCP or TLS) and its MQTT bytes. The
// handshake and the frame format are src/net's, shared with the broker; this adds
// what a client does with them: its masking keys, a binary frame around each flush of
// MQTT output, and answers to the server's Ping and Close.
//
// Output is framed when it is flushed: all MQTT bytes queued so far become one binary
// frame (frames may split or join packets anyhow [MQTT-6.0.0-2]), so framing costs one
// copy and XOR of the bytes per flush and no allocation once the buffer has grown.
// Input is de-framed in place in the parser's buffer.
// Thread-safety: single owner (the connection's worker).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "net/websocket_client_handshake.hpp"
#include "net/websocket_frames.hpp"
#include "out_buffer.hpp"

namespace cicada::bench {

class WebSocketStream {
 public:
  // `host`: the Host header ("name:port"); `path`: the request target.
  WebSocketStream(std::string host, std::string path);

  // Queues the upgrade request; call once, before anything else is written.
  void start(OutBuffer& wire);

  enum class Result : std::uint8_t {
    more,      // nothing decided yet, or data: go on
    accepted,  // the handshake just completed: the CONNECT may go out
    closed,    // the server sent Close (answered)
    failed,    // error() says why
  };
  // Takes bytes read from the socket, in place: handshake bytes are consumed, and the
  // MQTT bytes inside frames are moved to the front of `bytes`; `data` says how many.
  // Answers (Pong, Close) are queued on `wire`.
  Result receive(std::span<std::uint8_t> bytes, std::size_t& data, OutBuffer& wire);

  // Moves `out` into `wire` as one masked binary frame. Nothing is framed after Close.
  void frame(OutBuffer& out, OutBuffer& wire);
  // Queues a Close frame (1000, normal) once; later output is dropped.
  void close(OutBuffer& wire);

  bool open() const noexcept {
    return handshake_.state() == net::websocket::ClientHandshake::State::accepted;
  }
  const std::string& error() const noexcept { return error_; }

 private:
  std::uint64_t next_random() noexcept;
  std::array<std::uint8_t, 4> next_key() noexcept;
  std::array<std::uint8_t, 16> next_nonce() noexcept;
  void append_frame(net::websocket::Opcode opcode, std::span<const std::uint8_t> payload,
                    OutBuffer& wire);

  std::uint64_t random_;  // xorshift64* state, seeded from std::random_device
  net::websocket::ClientHandshake handshake_;
  net::websocket::FrameDecoder decoder_;
  bool close_sent_ = false;
  std::string error_;
};

}  // namespace cicada::bench
