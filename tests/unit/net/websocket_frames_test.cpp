// The frame decoder and encoder against hand-built frames, one rule of RFC 6455 §5
// (and [MQTT-6.0.0-1]) per test.
#include "net/websocket_frames.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cicada::net::websocket {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Event = FrameDecoder::Event;

constexpr std::uint8_t fin = 0x80;
const std::array<std::uint8_t, 4> key{0x37, 0xfa, 0x21, 0x3d};

Bytes bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

// A client frame: `first` is FIN/RSV/opcode; the length takes the minimal encoding
// unless `length_bytes` forces 2 or 8 extension bytes.
Bytes frame(std::uint8_t first, const Bytes& payload, bool masked = true, int length_bytes = -1) {
  Bytes out{first};
  const std::uint64_t size = payload.size();
  const std::uint8_t mask_bit = masked ? 0x80 : 0x00;
  if (length_bytes == -1) length_bytes = size < 126 ? 0 : size <= 0xFFFF ? 2 : 8;
  if (length_bytes == 0) {
    out.push_back(static_cast<std::uint8_t>(mask_bit | size));
  } else if (length_bytes == 2) {
    out.push_back(mask_bit | 126);
    out.push_back(static_cast<std::uint8_t>(size >> 8));
    out.push_back(static_cast<std::uint8_t>(size));
  } else {
    out.push_back(mask_bit | 127);
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<std::uint8_t>(size >> (8 * i)));
  }
  if (masked) out.insert(out.end(), key.begin(), key.end());
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(masked ? payload[i] ^ key[i % 4] : payload[i]);
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

struct Decoded {
  Bytes data;
  std::vector<Event> events;
  std::vector<Bytes> control_payloads;
  std::size_t consumed = 0;
};

// Decodes all of `input` in place, in pieces of `piece` bytes (0: all at once),
// calling again after each event as a layer does.
Decoded decode_all(FrameDecoder& decoder, Bytes input, std::size_t piece = 0) {
  Decoded result;
  std::size_t at = 0;
  while (at < input.size() && !decoder.ended()) {
    const std::size_t size = piece == 0 ? input.size() - at : std::min(piece, input.size() - at);
    std::span<std::uint8_t> chunk(input.data() + at, size);
    std::size_t used = 0;
    while (used < chunk.size()) {
      auto step = decoder.decode(chunk.subspan(used), chunk.data() + used);
      result.data.insert(result.data.end(), chunk.data() + used, chunk.data() + used + step.data);
      used += step.consumed;
      if (step.event != Event::none) {
        result.events.push_back(step.event);
        result.control_payloads.emplace_back(decoder.control_payload().begin(),
                                             decoder.control_payload().end());
      }
      if (step.event == Event::none || decoder.ended()) break;
    }
    at += used;
    if (decoder.ended()) break;
  }
  result.consumed = at;
  return result;
}

WebSocketError decode_error(const Bytes& input, FrameDecoderOptions options = {}) {
  FrameDecoder decoder(options);
  Decoded result = decode_all(decoder, input);
  EXPECT_EQ(result.events, std::vector<Event>{Event::error});
  EXPECT_TRUE(decoder.ended());
  return decoder.error();
}

TEST(WebSocketFrames, UnmasksABinaryFrame) {
  FrameDecoder decoder;
  Decoded result = decode_all(decoder, frame(fin | 0x2, bytes("hello, broker")));
  EXPECT_EQ(result.data, bytes("hello, broker"));
  EXPECT_TRUE(result.events.empty());
  EXPECT_FALSE(decoder.in_message());
}

TEST(WebSocketFrames, DecodesFramesArrivingOneByteAtATime) {
  const Bytes payload(300, 0x5a);
  Bytes input = concat({frame(0x2, bytes("part one ")), frame(fin | 0x0, bytes("part two ")),
                        frame(fin | 0x2, payload)});
  FrameDecoder decoder;
  Decoded result = decode_all(decoder, input, 1);
  EXPECT_EQ(result.data, concat({bytes("part one part two "), payload}));
  EXPECT_TRUE(result.events.empty());
  EXPECT_EQ(result.consumed, input.size());
}

TEST(WebSocketFrames, JoinsAFragmentedMessageAndSeveralFramesInOneRead) {
  // [MQTT-6.0.0-2] frames carry any split of the MQTT byte stream: a packet across
  // three frames, then two packets in one frame, all in one read.
  Bytes input = concat({frame(0x2, bytes("ab")), frame(0x0, bytes("cd")),
                        frame(fin | 0x0, bytes("ef")), frame(fin | 0x2, bytes("gh"))});
  FrameDecoder decoder;
  std::span<std::uint8_t> all(input);
  auto step = decoder.decode(all, all.data());
  EXPECT_EQ(step.event, Event::none);
  EXPECT_EQ(step.consumed, input.size());
  ASSERT_EQ(step.data, 8u);
  EXPECT_EQ(Bytes(input.begin(), input.begin() + 8), bytes("abcdefgh"));
}

TEST(WebSocketFrames, TracksTheMessageAcrossItsFragments) {
  FrameDecoder decoder;
  decode_all(decoder, frame(0x2, bytes("a")));
  EXPECT_TRUE(decoder.in_message());
  decode_all(decoder, frame(0x0, bytes("b")));
  EXPECT_TRUE(decoder.in_message());
  decode_all(decoder, frame(fin | 0x0, bytes("c")));
  EXPECT_FALSE(decoder.in_message());
}

TEST(WebSocketFrames, ReportsAPingBetweenFragments) {
  // [RFC 6455 §5.4] control frames may be injected in the middle of a message.
  Bytes input = concat(
      {frame(0x2, bytes("ab")), frame(fin | 0x9, bytes("are you there")), frame(fin, bytes("cd"))});
  FrameDecoder decoder;
  Decoded result = decode_all(decoder, input);
  EXPECT_EQ(result.data, bytes("abcd"));
  ASSERT_EQ(result.events, std::vector<Event>{Event::ping});
  EXPECT_EQ(result.control_payloads[0], bytes("are you there"));
  EXPECT_FALSE(decoder.ended());
}

TEST(WebSocketFrames, ReportsAnEmptyPingAtTheEndOfTheInput) {
  FrameDecoder decoder;
  Decoded result = decode_all(decoder, frame(fin | 0x9, {}));
  ASSERT_EQ(result.events, std::vector<Event>{Event::ping});
  EXPECT_TRUE(result.control_payloads[0].empty());
}

TEST(WebSocketFrames, IgnoresAnUnsolicitedPong) {
  FrameDecoder decoder;
  Decoded result =
      decode_all(decoder, concat({frame(fin | 0xA, bytes("x")), frame(fin | 0x2, bytes("y"))}));
  EXPECT_EQ(result.data, bytes("y"));
  EXPECT_TRUE(result.events.empty());
}

TEST(WebSocketFrames, ReportsACloseWithItsCodeAndReadsNothingAfterIt) {
  FrameDecoder decoder;
  Bytes input =
      concat({frame(fin | 0x8, Bytes{0x03, 0xE8, 'b', 'y', 'e'}), frame(fin | 0x2, bytes("late"))});
  Decoded result = decode_all(decoder, input);
  EXPECT_EQ(result.events, std::vector<Event>{Event::close});
  EXPECT_EQ(decoder.peer_close_code(), 1000);
  EXPECT_TRUE(result.data.empty());
  EXPECT_TRUE(decoder.ended());
  EXPECT_EQ(result.consumed, input.size() - frame(fin | 0x2, bytes("late")).size());
  std::span<std::uint8_t> rest(input.data() + result.consumed, input.size() - result.consumed);
  EXPECT_EQ(decoder.decode(rest, rest.data()).consumed, 0u);
}

TEST(WebSocketFrames, AcceptsACloseWithoutACode) {
  FrameDecoder decoder;
  Decoded result = decode_all(decoder, frame(fin | 0x8, {}));
  EXPECT_EQ(result.events, std::vector<Event>{Event::close});
  EXPECT_EQ(decoder.peer_close_code(), close_code::none_received);
}

TEST(WebSocketFrames, RefusesAnInvalidClose) {
  // [RFC 6455 §5.5.1] a one-byte body has half a status code; 1005 is never sent.
  EXPECT_EQ(decode_error(frame(fin | 0x8, Bytes{0x03})), WebSocketError::bad_close_frame);
  EXPECT_EQ(decode_error(frame(fin | 0x8, Bytes{0x03, 0xED})), WebSocketError::bad_close_frame);
  EXPECT_EQ(decode_error(frame(fin | 0x8, Bytes{0x00, 0x10})), WebSocketError::bad_close_frame);
}

TEST(WebSocketFrames, RefusesACloseReasonThatIsNotUtf8) {
  // [RFC 6455 §5.5.1] the reason is UTF-8; §8.1: otherwise fail with 1007.
  FrameDecoder valid;
  Bytes reason{0x03, 0xE8, 'a', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80};
  EXPECT_EQ(decode_all(valid, frame(fin | 0x8, reason)).events, std::vector<Event>{Event::close});
  for (Bytes bad : {Bytes{0xC3}, Bytes{0xC0, 0x80}, Bytes{0xED, 0xA0, 0x80},
                    Bytes{0xF4, 0x90, 0x80, 0x80}, Bytes{0xE2, 0x28, 0xA1}, Bytes{0xFF}}) {
    Bytes body{0x03, 0xE8};
    body.insert(body.end(), bad.begin(), bad.end());
    EXPECT_EQ(decode_error(frame(fin | 0x8, body)), WebSocketError::bad_close_reason);
  }
  EXPECT_EQ(close_code_for(WebSocketError::bad_close_reason), close_code::invalid_payload);
}

TEST(WebSocketFrames, RefusesAnUnmaskedFrame) {
  EXPECT_EQ(decode_error(frame(fin | 0x2, bytes("hi"), /*masked=*/false)),
            WebSocketError::unmasked_frame);
  EXPECT_EQ(close_code_for(WebSocketError::unmasked_frame), close_code::protocol_error);
}

// The client side (cicada-bench's ws:// connections): server frames are unmasked.
const FrameDecoderOptions from_server{.from_server = true};

TEST(WebSocketFrames, AClientReadsUnmaskedServerFramesInAnyPieces) {
  const Bytes payload(300, 0x6b);
  Bytes input = concat({frame(fin | 0x2, bytes("hello, client"), false),
                        frame(0x2, bytes("one "), false), frame(fin | 0x0, payload, false)});
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
    FrameDecoder decoder(from_server);
    Decoded result = decode_all(decoder, input, piece);
    EXPECT_EQ(result.data, concat({bytes("hello, client"), bytes("one "), payload})) << piece;
    EXPECT_TRUE(result.events.empty());
    EXPECT_EQ(result.consumed, input.size());
  }
}

TEST(WebSocketFrames, AClientSeesAServersPingAndClose) {
  FrameDecoder decoder(from_server);
  Decoded result = decode_all(decoder, concat({frame(fin | 0x9, bytes("are you there"), false),
                                               frame(fin | 0x8, Bytes{0x03, 0xE9}, false)}));
  EXPECT_EQ(result.events, (std::vector<Event>{Event::ping, Event::close}));
  EXPECT_EQ(result.control_payloads[0], bytes("are you there"));
  EXPECT_EQ(decoder.peer_close_code(), close_code::going_away);
}

TEST(WebSocketFrames, AClientRefusesAMaskedServerFrame) {
  // [RFC 6455 §5.1] "A client MUST close a connection if it detects a masked frame."
  EXPECT_EQ(decode_error(frame(fin | 0x2, bytes("hi")), from_server), WebSocketError::masked_frame);
  EXPECT_EQ(close_code_for(WebSocketError::masked_frame), close_code::protocol_error);
}

TEST(WebSocketFrames, EncodesClientHeadersWithTheKey) {
  std::array<std::uint8_t, max_client_header_size> header{};
  const Bytes payload = bytes("mqtt bytes");
  const std::size_t size = encode_client_frame_header(Opcode::binary, payload.size(), key, header);
  ASSERT_EQ(size, 6u);
  Bytes wire(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(size));
  Bytes masked = payload;
  unmask(masked, key, 0);
  wire.insert(wire.end(), masked.begin(), masked.end());
  EXPECT_EQ(wire, frame(fin | 0x2, payload));  // what a server decodes
  FrameDecoder server;
  EXPECT_EQ(decode_all(server, wire).data, payload);
  ASSERT_EQ(encode_client_frame_header(Opcode::binary, 70'000, key, header), 14u);
  EXPECT_EQ(header[1], 0x80 | 127);
  EXPECT_EQ(Bytes(header.begin() + 10, header.end()), Bytes(key.begin(), key.end()));
}

TEST(WebSocketFrames, ClosesOnATextFrame) {
  // [MQTT-6.0.0-1]
  EXPECT_EQ(decode_error(frame(fin | 0x1, bytes("{}"))), WebSocketError::text_frame);
  EXPECT_EQ(close_code_for(WebSocketError::text_frame), close_code::unsupported_data);
}

TEST(WebSocketFrames, RefusesReservedBitsAndOpcodes) {
  EXPECT_EQ(decode_error(frame(fin | 0x40 | 0x2, bytes("x"))), WebSocketError::reserved_bits);
  EXPECT_EQ(decode_error(frame(fin | 0x10 | 0x2, bytes("x"))), WebSocketError::reserved_bits);
  EXPECT_EQ(decode_error(frame(fin | 0x3, bytes("x"))), WebSocketError::reserved_opcode);
  EXPECT_EQ(decode_error(frame(fin | 0xB, bytes("x"))), WebSocketError::reserved_opcode);
}

TEST(WebSocketFrames, RefusesFragmentedOrOversizedControlFrames) {
  EXPECT_EQ(decode_error(frame(0x9, bytes("x"))), WebSocketError::bad_control_frame);
  EXPECT_EQ(decode_error(frame(fin | 0x9, Bytes(126, 1))), WebSocketError::bad_control_frame);
  FrameDecoder decoder;
  Decoded result = decode_all(decoder, frame(fin | 0x9, Bytes(125, 1)));
  EXPECT_EQ(result.events, std::vector<Event>{Event::ping});
}

TEST(WebSocketFrames, RefusesContinuationsOutsideAMessageAndMessagesInsideOne) {
  EXPECT_EQ(decode_error(frame(fin | 0x0, bytes("x"))), WebSocketError::bad_continuation);
  EXPECT_EQ(decode_error(concat({frame(0x2, bytes("x")), frame(fin | 0x2, bytes("y"))})),
            WebSocketError::bad_continuation);
}

TEST(WebSocketFrames, Decodes16And64BitLengths) {
  Bytes medium(300);
  Bytes large(70'000);
  for (std::size_t i = 0; i < medium.size(); ++i)
    medium[i] = static_cast<std::uint8_t>(i * 7);
  for (std::size_t i = 0; i < large.size(); ++i)
    large[i] = static_cast<std::uint8_t>(i * 13);
  FrameDecoder decoder;
  Decoded result = decode_all(decoder, concat({frame(fin | 0x2, medium), frame(fin | 0x2, large)}));
  EXPECT_EQ(result.data, concat({medium, large}));
  EXPECT_TRUE(result.events.empty());
  FrameDecoder bytewise;
  EXPECT_EQ(decode_all(bytewise, frame(fin | 0x2, large), 1).data, large);
}

TEST(WebSocketFrames, RefusesNonMinimalAndTopBitLengths) {
  EXPECT_EQ(decode_error(frame(fin | 0x2, bytes("short"), true, 2)), WebSocketError::bad_length);
  EXPECT_EQ(decode_error(frame(fin | 0x2, Bytes(300, 0), true, 8)), WebSocketError::bad_length);
  Bytes top_bit{fin | 0x2, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(decode_error(top_bit), WebSocketError::bad_length);
}

TEST(WebSocketFrames, RefusesAFrameAboveTheBoundAtItsHeader) {
  FrameDecoderOptions options{.max_frame_size = 1000};
  {
    FrameDecoder decoder(options);
    EXPECT_EQ(decode_all(decoder, frame(fin | 0x2, Bytes(1000, 9))).data, Bytes(1000, 9));
  }
  Bytes overlong = frame(fin | 0x2, Bytes(1001, 9));
  FrameDecoder decoder(options);
  Decoded result = decode_all(decoder, overlong);
  EXPECT_EQ(result.events, std::vector<Event>{Event::error});
  EXPECT_EQ(decoder.error(), WebSocketError::frame_too_large);
  EXPECT_EQ(close_code_for(decoder.error()), close_code::too_big);
  EXPECT_LT(result.consumed, 10u);  // refused without reading the payload
}

TEST(WebSocketFrames, UnmasksAtAnyKeyPhase) {
  Bytes data(37);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::uint8_t>(i);
  for (std::size_t offset = 0; offset < 4; ++offset) {
    Bytes masked = data;
    EXPECT_EQ(unmask(masked, key, offset), (offset + data.size()) & 3);
    for (std::size_t i = 0; i < data.size(); ++i)
      EXPECT_EQ(masked[i], data[i] ^ key[(offset + i) % 4]) << offset << " " << i;
  }
}

TEST(WebSocketFrames, EncodesServerHeadersWithMinimalLengths) {
  std::array<std::uint8_t, max_server_header_size> header{};
  ASSERT_EQ(encode_frame_header(Opcode::binary, 125, header), 2u);
  EXPECT_EQ(Bytes(header.begin(), header.begin() + 2), (Bytes{0x82, 125}));
  ASSERT_EQ(encode_frame_header(Opcode::binary, 126, header), 4u);
  EXPECT_EQ(Bytes(header.begin(), header.begin() + 4), (Bytes{0x82, 126, 0, 126}));
  ASSERT_EQ(encode_frame_header(Opcode::binary, 65'536, header), 10u);
  EXPECT_EQ(Bytes(header.begin(), header.end()), (Bytes{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(WebSocketFrames, EncodesPongAndClose) {
  std::string out;
  append_control_frame(out, Opcode::pong, bytes("hi"));
  append_close_frame(out, close_code::too_big);
  append_close_frame(out, close_code::none_received);
  EXPECT_EQ(Bytes(out.begin(), out.end()),
            (Bytes{0x8A, 2, 'h', 'i', 0x88, 2, 0x03, 0xF1, 0x88, 0}));
}

}  // namespace
}  // namespace cicada::net::websocket
