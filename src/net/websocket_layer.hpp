// WebSocketLayer: MQTT over WebSocket (RFC 6455, server side) as a StreamLayer, over
// the TCP socket itself (ws) or over a lower layer such as TLS (wss). read_some first
// runs the opening handshake (reads the upgrade request, writes the 101 or the error
// response), then yields the payload bytes of binary frames; write_some sends what it
// takes as one binary frame. Pongs and Close frames go out between data frames.
// Knows no MQTT [MQTT-6.0.0-2]: frames and packets are independent.
// Thread-safety: single owner, the connection's worker.
#pragma once

#include <sys/uio.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stream_layer.hpp"
#include "websocket_frames.hpp"
#include "websocket_handshake.hpp"

namespace cicada::net {

struct WebSocketOptions {
  websocket::HandshakeOptions handshake;
  websocket::FrameDecoderOptions frames;
  // The most bytes one write_some takes into one frame. The part of a frame the
  // socket does not accept at once is kept inside the layer, so this bounds the copy.
  std::size_t max_write_frame = 64 * 1024;
};

class WebSocketLayer final : public StreamLayer {
 public:
  // `lower` is the layer under this one (TLS for wss); nullptr reads and writes the
  // socket itself, which must be non-blocking.
  explicit WebSocketLayer(WebSocketOptions options, std::unique_ptr<StreamLayer> lower = nullptr);

  // Errors besides the socket's: the WebSocketError of a refused upgrade (once its
  // response is written), or of a frame violation (once the Close frame it sends is
  // written); eof after the peer's Close, once the echo is written. A call may write
  // (the 101, a Pong, a Close): afterwards write_pending() may be true, and the
  // caller flushes it as it flushes its own bytes.
  std::size_t read_some(Socket& socket, std::span<std::uint8_t> into,
                        boost::system::error_code& error) override;
  Wait read_wants() const noexcept override;
  bool read_buffered() const noexcept override;

  // One binary frame per call of up to max_write_frame bytes; WebSocketError::not_open
  // before the handshake completed, WebSocketError::closed after a Close was queued.
  // Empty `buffers` only flush what the layer holds, in every state (the 101 too).
  std::size_t write_some(Socket& socket, std::span<const iovec> buffers,
                         boost::system::error_code& error) override;
  Wait write_wants() const noexcept override;
  bool write_pending() const noexcept override;
  // This layer's own unsent bytes (not a lower layer's): at most the rest of one frame
  // (<= max_write_frame + 10, or the HTTP response) plus one Pong and one Close.
  std::size_t write_pending_bytes() const noexcept {
    return current_.size() - current_sent_ + pong_.size() + close_.size();
  }

  // Queues a Close (1000) unless one is queued already, and writes what it can.
  void shutdown(Socket& socket) noexcept override;

  const PeerIdentity* peer_identity() const noexcept override {
    return lower_ ? lower_->peer_identity() : nullptr;
  }

  // The accepted upgrade request (path, X-Forwarded-For, subprotocol); nullptr before.
  const websocket::UpgradeRequest* request() const noexcept {
    return state_ == State::open ? &request_ : nullptr;
  }

 private:
  enum class State { reading_request, writing_response, open, refused };

  std::size_t lower_read(Socket& socket, std::span<std::uint8_t> into,
                         boost::system::error_code& error);
  std::size_t lower_write(Socket& socket, std::span<const iovec> buffers,
                          boost::system::error_code& error);
  // Writes the queued frames (the rest of the current one, then a Pong, then a Close);
  // true when all of them are written, else `error` says why not.
  bool flush_output(Socket& socket, boost::system::error_code& error);
  bool advance_handshake(Socket& socket, boost::system::error_code& error);
  std::size_t read_frames(Socket& socket, std::span<std::uint8_t> into,
                          boost::system::error_code& error);
  std::size_t finish_read(Socket& socket, boost::system::error_code& error);
  void queue_pong(std::span<const std::uint8_t> payload);
  void queue_close(std::uint16_t code);

  std::size_t max_write_frame_;
  std::unique_ptr<StreamLayer> lower_;
  State state_ = State::reading_request;
  std::unique_ptr<websocket::Handshake> handshake_;  // only while handshaking
  websocket::UpgradeRequest request_;
  websocket::FrameDecoder decoder_;
  // What the client sent after its upgrade request, before the 101 was written.
  std::vector<std::uint8_t> early_input_;
  std::size_t early_input_used_ = 0;
  // The outcome the read side reports once the Close it queued is written: eof after
  // the peer's Close, the frame error otherwise; set = no more frames are read.
  boost::system::error_code read_end_;
  bool blocked_on_write_ = false;  // read_some waits for its own output to drain
  // Output, in order: the unwritten rest of the frame (or HTTP response) under way,
  // then at most one Pong (the latest Ping's, RFC 6455 §5.5.3 allows that) and one Close.
  std::string current_;
  std::size_t current_sent_ = 0;
  std::string pong_;
  std::string close_;
  bool close_queued_ = false;  // no data frame after a Close [RFC 6455 §5.5.1]
};

}  // namespace cicada::net
