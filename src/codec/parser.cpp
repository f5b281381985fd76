#include <algorithm>
#include <cstring>

#include <cicada/codec/parser.hpp>

#include "decoders.hpp"

namespace cicada::codec {

namespace {

// Sizes this parser handles fit 32 bits (see parser.hpp); a larger buffer_size only
// asks for more than any packet needs.
std::uint32_t to_u32(std::size_t size) noexcept {
  return static_cast<std::uint32_t>(std::min<std::size_t>(size, UINT32_MAX));
}

}  // namespace

Parser::Parser(ParserOptions options)
    : max_packet_size_(options.max_packet_size),
      buffer_size_(to_u32(options.buffer_size)),
      version_(options.version) {}

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
  const std::size_t want = std::max<std::size_t>({buffer_size_, pending + needed, expected_size_});
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
  end_ = to_u32(pending);
}

std::span<std::uint8_t> Parser::prepare(std::size_t min_size) {
  reserve(std::max<std::size_t>(min_size, 1));
  return {buffer_.data() + end_, buffer_.capacity() - end_};
}

void Parser::commit(std::size_t size) noexcept {
  end_ = to_u32(std::min(std::size_t{end_} + size, buffer_.capacity()));
}

void Parser::feed(std::string_view bytes) {
  if (bytes.empty()) return;
  std::span<std::uint8_t> space = prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

Expected<bool, DecodeError> Parser::next_into(ParsedPacket& out) {
  if (failed_) return unexpected(DecodeError{failure_code_, failure_detail_});
  if (begin_ == end_) return false;
  auto fail = [this](const DecodeError& error) {
    failed_ = true;
    failure_code_ = error.code;
    failure_detail_ = error.detail;
    return unexpected(error);
  };

  std::string_view available = buffer_.view(begin_, end_ - begin_);
  auto header = decode_fixed_header(available, version_);
  if (!header) return fail(header.error());
  if (!header->has_value()) return false;
  const FixedHeader fixed = **header;
  const std::size_t total = fixed.size + std::size_t{fixed.remaining_length};
  // [MQTT-3.1.2-24] refuse a packet above the Maximum Packet Size from its declared
  // length alone, before any of its body is buffered.
  if (total > max_packet_size_) {
    return fail(DecodeError{ReasonCode::packet_too_large,
                            "[MQTT-3.1.2-24] packet larger than the Maximum Packet Size"});
  }
  if (available.size() < total) {
    expected_size_ = to_u32(total);  // <= max_packet_size_
    return false;
  }
  expected_size_ = 0;

  const std::string_view body = available.substr(fixed.size, fixed.remaining_length);
  if (fixed.type == PacketType::publish) {
    // The packet most streams are made of is built in place.
    Publish& publish = out.packet.emplace<Publish>();
    if (auto error = detail::decode_publish_into(fixed.flags, body, version_, publish)) {
      return fail(*error);
    }
  } else {
    auto packet = decode_body(fixed, body, version_);
    if (!packet) return fail(packet.error());
    out.packet = std::move(*packet);
  }
  begin_ += to_u32(total);
  if (const auto* connect = std::get_if<Connect>(&out.packet)) version_ = connect->version;
  // Packets from one buffer share it: no reference count traffic per packet.
  if (out.owner.data() != buffer_.data()) out.owner = buffer_;
  out.wire_size = total;
  return true;
}

Expected<std::optional<ParsedPacket>, DecodeError> Parser::next() {
  using Result = Expected<std::optional<ParsedPacket>, DecodeError>;
  ParsedPacket parsed;
  auto got = next_into(parsed);
  if (!got) return unexpected(got.error());
  if (!*got) return Result{std::nullopt};
  return Result{std::move(parsed)};
}

void Parser::release_if_idle() noexcept {
  if (begin_ != end_) return;
  buffer_.reset();
  begin_ = end_ = 0;
}

}  // namespace cicada::codec
