#include <algorithm>
#include <cstring>

#include <cicada/codec/parser.hpp>

namespace cicada::codec {

Parser::Parser(ParserOptions options) : options_(options) {}

void Parser::reserve(std::size_t needed) {
  const std::size_t pending = end_ - begin_;
  // Enough room after end_ for this read, and for the whole pending packet once its
  // size is known, without moving anything.
  if (buffer_ && buffer_.capacity() - end_ >= needed &&
      buffer_.capacity() - begin_ >= expected_size_) {
    return;
  }
  // Room for the rest of the pending packet in one piece when its size is known, so
  // its body ends up contiguous and is never copied again.
  const std::size_t want = std::max({options_.buffer_size, pending + needed, expected_size_});
  // Bytes before begin_ may still be referenced by packets handed out earlier, so they
  // may be overwritten only when no one else holds the buffer.
  if (buffer_ && buffer_.unique() && buffer_.capacity() >= want) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
  } else {
    SharedBuffer fresh = SharedBuffer::allocate(want);
    if (pending != 0) std::memcpy(fresh.data(), buffer_.data() + begin_, pending);
    buffer_ = std::move(fresh);
  }
  begin_ = 0;
  end_ = pending;
}

std::span<std::uint8_t> Parser::prepare(std::size_t min_size) {
  reserve(std::max<std::size_t>(min_size, 1));
  return {buffer_.data() + end_, buffer_.capacity() - end_};
}

void Parser::commit(std::size_t size) noexcept {
  end_ = std::min(end_ + size, buffer_.capacity());
}

void Parser::feed(std::string_view bytes) {
  if (bytes.empty()) return;
  std::span<std::uint8_t> space = prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

Expected<std::optional<ParsedPacket>, DecodeError> Parser::next() {
  using Result = Expected<std::optional<ParsedPacket>, DecodeError>;
  if (failed_) return unexpected(*failed_);
  if (begin_ == end_) return Result{std::nullopt};

  std::string_view available = buffer_.view(begin_, end_ - begin_);
  auto header = decode_fixed_header(available, options_.version);
  if (!header) {
    failed_ = header.error();
    return unexpected(*failed_);
  }
  if (!header->has_value()) return Result{std::nullopt};
  const FixedHeader fixed = **header;
  const std::size_t total = fixed.size + std::size_t{fixed.remaining_length};
  // [MQTT-3.1.2-24] refuse a packet above the Maximum Packet Size from its declared
  // length alone, before any of its body is buffered.
  if (total > options_.max_packet_size) {
    failed_ = DecodeError{ReasonCode::packet_too_large,
                          "[MQTT-3.1.2-24] packet larger than the Maximum Packet Size"};
    return unexpected(*failed_);
  }
  if (available.size() < total) {
    expected_size_ = total;
    return Result{std::nullopt};
  }
  expected_size_ = 0;

  auto packet =
      decode_body(fixed, available.substr(fixed.size, fixed.remaining_length), options_.version);
  if (!packet) {
    failed_ = packet.error();
    return unexpected(*failed_);
  }
  begin_ += total;
  if (const auto* connect = std::get_if<Connect>(&*packet)) options_.version = connect->version;
  return Result{ParsedPacket{std::move(*packet), buffer_, total}};
}

void Parser::release_if_idle() noexcept {
  if (begin_ != end_) return;
  buffer_.reset();
  begin_ = end_ = 0;
}

}  // namespace cicada::codec
