#include "websocket_stream.hpp"

#include <cstring>
#include <random>

namespace cicada::bench {

namespace ws = net::websocket;

WebSocketStream::WebSocketStream(std::string host, std::string path)
    : random_((std::uint64_t{std::random_device{}()} << 32 | std::random_device{}()) | 1),
      handshake_({.host = std::move(host), .path = std::move(path)}, next_nonce()),
      decoder_(ws::FrameDecoderOptions{.from_server = true}) {}

// [RFC 6455 §5.3, §10.3] keys must be unpredictable to a script in a browser, whose
// masked bytes could otherwise poison a proxy's cache. A load generator runs no foreign
// script, so a fast generator seeded from the system's entropy is enough here.
std::uint64_t WebSocketStream::next_random() noexcept {
  random_ ^= random_ >> 12;
  random_ ^= random_ << 25;
  random_ ^= random_ >> 27;
  return random_ * 0x2545F4914F6CDD1DULL;
}

std::array<std::uint8_t, 4> WebSocketStream::next_key() noexcept {
  const auto bits = static_cast<std::uint32_t>(next_random() >> 32);
  std::array<std::uint8_t, 4> key;
  std::memcpy(key.data(), &bits, key.size());
  return key;
}

std::array<std::uint8_t, 16> WebSocketStream::next_nonce() noexcept {
  std::array<std::uint8_t, 16> nonce;
  for (std::size_t i = 0; i < nonce.size(); i += 8) {
    const std::uint64_t bits = next_random();
    std::memcpy(nonce.data() + i, &bits, 8);
  }
  return nonce;
}

void WebSocketStream::start(OutBuffer& wire) {
  const std::string& request = handshake_.request();
  wire.append(request.data(), request.size());
}

WebSocketStream::Result WebSocketStream::receive(std::span<std::uint8_t> bytes, std::size_t& data,
                                                 OutBuffer& wire) {
  data = 0;
  Result result = Result::more;
  std::size_t at = 0;
  if (!open()) {
    at = handshake_.feed(bytes);
    if (handshake_.state() == ws::ClientHandshake::State::failed) {
      error_ = "WebSocket handshake: " + handshake_.error();
      return Result::failed;
    }
    if (!open()) return Result::more;
    result = Result::accepted;
  }
  // Frames right behind the 101 (a server may send its first frames with it) and
  // every later read: MQTT bytes move to the front, control frames are answered.
  while (at < bytes.size()) {
    const ws::FrameDecoder::Step step = decoder_.decode(bytes.subspan(at), bytes.data() + data);
    at += step.consumed;
    data += step.data;
    switch (step.event) {
      case ws::FrameDecoder::Event::none:
        break;
      case ws::FrameDecoder::Event::ping:
        // [RFC 6455 §5.5.2] a Pong with the Ping's payload, between data frames.
        append_frame(ws::Opcode::pong, decoder_.control_payload(), wire);
        break;
      case ws::FrameDecoder::Event::close:
        // [RFC 6455 §5.5.1] answer the Close; the server then closes TCP.
        error_ = "the broker closed the WebSocket (code " +
                 std::to_string(decoder_.peer_close_code()) + ")";
        close(wire);
        return Result::closed;
      case ws::FrameDecoder::Event::error:
        error_ = make_error_code(decoder_.error()).message();
        return Result::failed;
    }
    if (step.event == ws::FrameDecoder::Event::none && step.consumed == 0) break;
  }
  return result;
}

void WebSocketStream::append_frame(ws::Opcode opcode, std::span<const std::uint8_t> payload,
                                   OutBuffer& wire) {
  const std::array<std::uint8_t, 4> key = next_key();
  std::array<std::uint8_t, ws::max_client_header_size> header;
  const std::size_t header_size =
      ws::encode_client_frame_header(opcode, payload.size(), key, header);
  std::uint8_t* out = wire.extend(header_size + payload.size());
  std::memcpy(out, header.data(), header_size);
  if (!payload.empty()) std::memcpy(out + header_size, payload.data(), payload.size());
  ws::unmask({out + header_size, payload.size()}, key, 0);
}

void WebSocketStream::frame(OutBuffer& out, OutBuffer& wire) {
  if (!close_sent_ && !out.empty())
    append_frame(ws::Opcode::binary, {out.data(), out.size()}, wire);
  out.clear();
}

void WebSocketStream::close(OutBuffer& wire) {
  if (close_sent_) return;
  close_sent_ = true;
  const std::array<std::uint8_t, 2> normal{ws::close_code::normal >> 8,
                                           ws::close_code::normal & 0xFF};
  append_frame(ws::Opcode::close, normal, wire);
}

}  // namespace cicada::bench
