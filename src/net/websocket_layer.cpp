// WebSocketLayer: the handshake, frame decoding in place, one frame per write.
#include "websocket_layer.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <cerrno>
#include <cstring>

namespace cicada::net {

namespace asio = boost::asio;
using websocket::FrameDecoder;
using websocket::Handshake;

namespace {

// The most reads one read_some makes that bring only frame headers and control
// frames; then it returns would_block (the socket stays readable, so the caller's wait
// ends at once) and lets the worker's other connections run.
constexpr int max_reads_without_data = 16;
constexpr std::size_t max_write_iov = 64;

}  // namespace

WebSocketLayer::WebSocketLayer(WebSocketOptions options, std::unique_ptr<StreamLayer> lower)
    : max_write_frame_(std::max<std::size_t>(options.max_write_frame, 1)),
      lower_(std::move(lower)),
      handshake_(std::make_unique<Handshake>(std::move(options.handshake))),
      decoder_(options.frames) {}

std::size_t WebSocketLayer::lower_read(Socket& socket, std::span<std::uint8_t> into,
                                       boost::system::error_code& error) {
  if (lower_) return lower_->read_some(socket, into, error);
  return socket.read_some(asio::buffer(into.data(), into.size()), error);
}

std::size_t WebSocketLayer::lower_write(Socket& socket, std::span<const iovec> buffers,
                                        boost::system::error_code& error) {
  if (lower_) return lower_->write_some(socket, buffers, error);
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(buffers.data());
  message.msg_iovlen = buffers.size();
  while (true) {
    const ssize_t n = ::sendmsg(socket.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      error = asio::error::would_block;
    } else {
      error = boost::system::error_code(errno, boost::system::system_category());
    }
    return 0;
  }
}

bool WebSocketLayer::flush_output(Socket& socket, boost::system::error_code& error) {
  error.clear();
  while (true) {
    if (current_sent_ == current_.size()) {
      current_.clear();
      current_sent_ = 0;
      if (!pong_.empty()) {
        current_.swap(pong_);
      } else if (!close_.empty()) {
        current_.swap(close_);
      } else {
        break;
      }
    }
    const iovec rest{current_.data() + current_sent_, current_.size() - current_sent_};
    const std::size_t n = lower_write(socket, {&rest, 1}, error);
    if (n == 0 && error) return false;
    error.clear();
    if (n == 0) {
      error = asio::error::would_block;
      return false;
    }
    current_sent_ += n;
  }
  // A lower layer may hold encoded bytes of its own (TLS records): give it a turn.
  if (lower_ && lower_->write_pending()) {
    lower_->write_some(socket, {}, error);
    if (error && error != asio::error::would_block) return false;
    error.clear();
  }
  return true;
}

void WebSocketLayer::queue_pong(std::span<const std::uint8_t> payload) {
  if (close_queued_) return;
  // [RFC 6455 §5.5.3] a Pong answers the most recent Ping; older unanswered ones are
  // dropped, so a Ping flood from a client that does not read costs one frame.
  pong_.clear();
  websocket::append_control_frame(pong_, websocket::Opcode::pong, payload);
}

void WebSocketLayer::queue_close(std::uint16_t code) {
  if (close_queued_) return;
  close_queued_ = true;
  pong_.clear();
  websocket::append_close_frame(close_, code);
}

bool WebSocketLayer::advance_handshake(Socket& socket, boost::system::error_code& error) {
  while (state_ == State::reading_request) {
    const std::span<std::uint8_t> space = handshake_->prepare();
    const std::size_t n = lower_read(socket, space, error);
    if (error) return false;
    if (handshake_->commit(n) != Handshake::State::reading) {
      current_ = handshake_->response();
      current_sent_ = 0;
      state_ = State::writing_response;
    }
  }
  if (state_ == State::writing_response) {
    if (!flush_output(socket, error) || (lower_ && lower_->write_pending())) {
      if (!error || error == asio::error::would_block) {
        blocked_on_write_ = true;
        error = asio::error::would_block;
      }
      return false;
    }
    if (handshake_->state() == Handshake::State::refused) {
      state_ = State::refused;
      read_end_ = handshake_->error();
      handshake_.reset();
      error = read_end_;
      return false;
    }
    request_ = handshake_->request();
    const auto early = handshake_->leftover();
    early_input_.assign(early.begin(), early.end());
    handshake_.reset();
    state_ = State::open;
  }
  return state_ == State::open;
}

std::size_t WebSocketLayer::finish_read(Socket& socket, boost::system::error_code& error) {
  // The read side has ended; its Close frame goes out before the end is reported.
  if (!flush_output(socket, error) || (lower_ && lower_->write_pending())) {
    if (!error || error == asio::error::would_block) {
      blocked_on_write_ = true;
      error = asio::error::would_block;
    }
    return 0;
  }
  error = read_end_;
  return 0;
}

std::size_t WebSocketLayer::read_frames(Socket& socket, std::span<std::uint8_t> into,
                                        boost::system::error_code& error) {
  if (read_end_) return finish_read(socket, error);
  for (int reads = 0; reads < max_reads_without_data; ++reads) {
    std::size_t n = 0;
    if (early_input_used_ < early_input_.size()) {
      n = std::min(into.size(), early_input_.size() - early_input_used_);
      std::memcpy(into.data(), early_input_.data() + early_input_used_, n);
      early_input_used_ += n;
      if (early_input_used_ == early_input_.size()) {
        std::vector<std::uint8_t>().swap(early_input_);
        early_input_used_ = 0;
      }
    } else {
      n = lower_read(socket, into, error);
      if (error) return 0;
    }
    // Decode in place: payload bytes move forward over the frame headers.
    std::size_t data = 0;
    std::size_t at = 0;
    bool control = false;
    while (at < n && !read_end_) {
      const FrameDecoder::Step step = decoder_.decode(into.subspan(at, n - at), into.data() + data);
      at += step.consumed;
      data += step.data;
      switch (step.event) {
        case FrameDecoder::Event::none:
          break;
        case FrameDecoder::Event::ping:
          queue_pong(decoder_.control_payload());
          control = true;
          break;
        case FrameDecoder::Event::close:
          // [RFC 6455 §5.5.1] answer with a Close, echoing the status code.
          queue_close(decoder_.peer_close_code());
          read_end_ = asio::error::eof;
          control = true;
          break;
        case FrameDecoder::Event::error:
          queue_close(websocket::close_code_for(decoder_.error()));
          read_end_ = decoder_.error();
          control = true;
          break;
      }
      if (step.event == FrameDecoder::Event::none) break;
    }
    if (control) {
      // Answer now, without blocking; what the socket does not take waits in the
      // layer (write_pending()), and a write error shows on the next write.
      boost::system::error_code ignored;
      flush_output(socket, ignored);
    }
    if (data > 0) {
      error.clear();
      return data;  // a read end found behind these bytes is reported on the next call
    }
    if (read_end_) return finish_read(socket, error);
  }
  error = asio::error::would_block;
  return 0;
}

std::size_t WebSocketLayer::read_some(Socket& socket, std::span<std::uint8_t> into,
                                      boost::system::error_code& error) {
  error.clear();
  blocked_on_write_ = false;
  if (state_ == State::refused) {
    error = read_end_;
    return 0;
  }
  if (state_ != State::open && !advance_handshake(socket, error)) return 0;
  if (into.empty()) {
    error = asio::error::invalid_argument;
    return 0;
  }
  return read_frames(socket, into, error);
}

StreamLayer::Wait WebSocketLayer::read_wants() const noexcept {
  if (blocked_on_write_) return lower_ ? lower_->write_wants() : Wait::writable;
  return lower_ ? lower_->read_wants() : Wait::readable;
}

bool WebSocketLayer::read_buffered() const noexcept {
  if (early_input_used_ < early_input_.size()) return true;
  if (read_end_ && !blocked_on_write_ && state_ == State::open) return true;
  return lower_ && lower_->read_buffered();
}

std::size_t WebSocketLayer::write_some(Socket& socket, std::span<const iovec> buffers,
                                       boost::system::error_code& error) {
  error.clear();
  std::size_t total = 0;
  for (const iovec& buffer : buffers)
    total += buffer.iov_len;
  if (state_ != State::open) {
    // An empty call only flushes what this layer holds (the HTTP response), so a
    // caller may flush whenever write_pending() says so; data has to wait for the 101.
    if (total > 0) {
      error = WebSocketError::not_open;
    } else {
      flush_output(socket, error);
    }
    return 0;
  }
  // Frames already under way (a data frame's rest, a Pong, a Close) go first, whole:
  // a control frame is never cut into a data frame.
  if (!flush_output(socket, error)) return 0;
  if (total == 0) return 0;
  if (close_queued_) {
    error = WebSocketError::closed;
    return 0;
  }
  std::array<std::uint8_t, websocket::max_server_header_size> header{};
  std::array<iovec, max_write_iov> iov{};
  std::size_t count = 1;
  std::size_t take = 0;
  for (const iovec& buffer : buffers) {
    if (count == iov.size() || take == max_write_frame_) break;
    const std::size_t part = std::min(buffer.iov_len, max_write_frame_ - take);
    if (part == 0) continue;
    iov[count++] = {buffer.iov_base, part};
    take += part;
  }
  const std::size_t header_size =
      websocket::encode_frame_header(websocket::Opcode::binary, take, header);
  iov[0] = {header.data(), header_size};
  const std::size_t written = lower_write(socket, {iov.data(), count}, error);
  if (written == 0 && error) return 0;  // would_block with nothing taken, or a socket error
  error.clear();
  // The rest of a frame the socket took only part of stays here, to go out first.
  std::size_t skip = written;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t size = iov[i].iov_len;
    if (skip >= size) {
      skip -= size;
      continue;
    }
    current_.append(static_cast<const char*>(iov[i].iov_base) + skip, size - skip);
    skip = 0;
  }
  current_sent_ = 0;
  return take;
}

StreamLayer::Wait WebSocketLayer::write_wants() const noexcept {
  return lower_ ? lower_->write_wants() : Wait::writable;
}

bool WebSocketLayer::write_pending() const noexcept {
  return current_sent_ < current_.size() || !pong_.empty() || !close_.empty() ||
         (lower_ && lower_->write_pending());
}

void WebSocketLayer::shutdown(Socket& socket) noexcept {
  if (state_ == State::open) queue_close(websocket::close_code::normal);
  boost::system::error_code ignored;
  flush_output(socket, ignored);
  if (lower_) lower_->shutdown(socket);
}

}  // namespace cicada::net
