// The incremental parser's own behaviour: buffering, the maximum packet size checked
// before buffering, zero-copy sharing of the receive buffer, and releasing it.
#include <gtest/gtest.h>

#include <cstring>

#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

#include "bytes.hpp"

namespace cicada::codec {
namespace {

using namespace testing;

TEST(Parser, RefusesAnOversizedPacketFromItsLengthPrefixAlone) {
  Parser parser({.max_packet_size = 1024, .buffer_size = 64});
  // A PUBLISH declaring 256 MB: only the five header bytes ever arrive.
  parser.feed(b({0x30, 0xFF, 0xFF, 0xFF, 0x7F}));
  auto result = parser.next();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ReasonCode::packet_too_large);
  // Nothing was allocated for the body.
  EXPECT_LE(parser.buffer_capacity(), 64u);
}

TEST(Parser, AcceptsAPacketOfExactlyTheMaximumSize) {
  // 1 type byte + 2 length bytes + 3 topic bytes + payload = 1024.
  std::string body = str("t") + std::string(1024 - 3 - 3, 'x');
  std::string bytes = packet(0x30, body);
  ASSERT_EQ(bytes.size(), 1024u);
  Parser exact({.max_packet_size = 1024});
  exact.feed(bytes);
  auto ok = exact.next();
  ASSERT_TRUE(ok && ok->has_value());
  Parser smaller({.max_packet_size = 1023});
  smaller.feed(bytes);
  auto refused = smaller.next();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ReasonCode::packet_too_large);
}

TEST(Parser, WaitsForTheWholeFixedHeader) {
  Parser parser;
  parser.feed(b({0x30, 0x80}));  // Remaining Length continues
  auto result = parser.next();
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->has_value());
  parser.feed(b({0x01}));  // 128 bytes
  result = parser.next();
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->has_value());
}

TEST(Parser, LargePacketGetsABufferOfItsOwnSize) {
  std::string payload(100'000, 'p');
  std::string bytes = packet(0x30, str("big") + payload);
  Parser parser({.max_packet_size = 1 << 20, .buffer_size = 4096});
  parser.feed(bytes.substr(0, 10));
  ASSERT_TRUE(parser.next());
  // Once the header is known, the next read space fits the whole packet.
  std::span<std::uint8_t> space = parser.prepare(1);
  EXPECT_GE(space.size() + parser.buffered(), bytes.size());
  std::memcpy(space.data(), bytes.data() + 10, bytes.size() - 10);
  parser.commit(bytes.size() - 10);
  auto result = parser.next();
  ASSERT_TRUE(result && result->has_value());
  EXPECT_EQ(std::get<Publish>((*result)->packet).payload, payload);
}

TEST(Parser, PacketsShareTheReceiveBufferAndOutliveTheParser) {
  std::string two = packet(0x30, str("a") + "first") + packet(0x30, str("b") + "second");
  ParsedPacket first, second;
  {
    Parser parser;
    parser.feed(two);
    first = **parser.next();
    second = **parser.next();
    EXPECT_EQ(first.owner.data(), second.owner.data());
    // The parser, and the two packets, each hold the buffer.
    EXPECT_EQ(first.owner.use_count(), 3u);
  }
  EXPECT_EQ(first.owner.use_count(), 2u);
  EXPECT_EQ(std::get<Publish>(first.packet).payload, "first");
  EXPECT_EQ(std::get<Publish>(second.packet).payload, "second");
}

TEST(Parser, NeverOverwritesBytesAPacketStillRefersTo) {
  // A small buffer forces the parser to make room while a packet is held.
  Parser parser({.buffer_size = 16});
  parser.feed(packet(0x30, str("t") + "held-payload"));
  ParsedPacket held = **parser.next();
  for (int i = 0; i < 10; ++i) {
    parser.feed(packet(0x30, str("t") + "other-payload"));
    ASSERT_TRUE(parser.next()->has_value());
  }
  EXPECT_EQ(std::get<Publish>(held.packet).payload, "held-payload");
}

TEST(Parser, ReleasesTheBufferWhenIdleButNotMidPacket) {
  Parser parser;
  EXPECT_EQ(parser.buffer_capacity(), 0u);  // nothing until bytes are expected
  std::string bytes = packet(0xC0, "");
  parser.feed(bytes.substr(0, 1));
  parser.release_if_idle();
  EXPECT_GT(parser.buffer_capacity(), 0u);  // a partial packet keeps it
  parser.feed(bytes.substr(1));
  ASSERT_TRUE(parser.next()->has_value());
  parser.release_if_idle();
  EXPECT_EQ(parser.buffer_capacity(), 0u);
}

TEST(Parser, SwitchesToTheVersionOfADecodedConnect) {
  Parser parser({.version = ProtocolVersion::v3_1_1});
  Connect connect{.version = ProtocolVersion::v5, .client_id = "c"};
  parser.feed(encode_to_string(connect, ProtocolVersion::v5));
  ASSERT_TRUE(parser.next()->has_value());
  EXPECT_EQ(parser.version(), ProtocolVersion::v5);
  // A v5 DISCONNECT with a reason code now decodes; in 3.1.1 it would be malformed.
  parser.feed(packet(0xE0, b({0x04})));
  auto result = parser.next();
  ASSERT_TRUE(result && result->has_value());
  EXPECT_EQ(std::get<Disconnect>((*result)->packet).reason_code,
            ReasonCode::disconnect_with_will_message);
}

TEST(Parser, NextIntoReusesOneSlotForEveryPacket) {
  // PUBLISH, PUBACK (another alternative of the variant), PUBLISH with a packet id.
  std::string bytes = packet(0x30, str("a/b") + "first") + packet(0x40, b({0x00, 0x07})) +
                      packet(0x32, str("c") + b({0x00, 0x09}) + "second");
  Parser parser;
  parser.feed(bytes);
  ParsedPacket slot;
  auto got = parser.next_into(slot);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(std::get<Publish>(slot.packet).topic, "a/b");
  EXPECT_EQ(std::get<Publish>(slot.packet).payload, "first");
  EXPECT_EQ(slot.wire_size, 2u + 5u + 5u);
  const auto* buffer = slot.owner.data();
  ASSERT_NE(buffer, nullptr);

  got = parser.next_into(slot);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(std::get<Puback>(slot.packet).packet_id, 7u);
  EXPECT_EQ(slot.owner.data(), buffer);  // the same buffer, kept

  got = parser.next_into(slot);
  ASSERT_TRUE(got && *got);
  const auto& second = std::get<Publish>(slot.packet);
  EXPECT_EQ(second.topic, "c");
  EXPECT_EQ(second.qos, QoS::at_least_once);
  EXPECT_EQ(second.packet_id, 9u);
  EXPECT_EQ(second.payload, "second");
  // Nothing before the fields of this packet is left over from the first PUBLISH.
  EXPECT_FALSE(second.retain);
  EXPECT_TRUE(second.properties.empty());

  got = parser.next_into(slot);
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);  // more bytes needed
}

TEST(Parser, NextIntoFailsForGoodAfterAMalformedPublish) {
  Parser parser;
  // QoS 1 with Packet Identifier 0 [MQTT-2.2.1-3], then a good packet.
  parser.feed(packet(0x32, str("t") + b({0x00, 0x00})) + packet(0xC0, ""));
  ParsedPacket slot;
  auto got = parser.next_into(slot);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ReasonCode::protocol_error);
  auto again = parser.next_into(slot);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ReasonCode::protocol_error);
}

TEST(Parser, NextIntoLeavesTheBufferReusableOnceTheSlotIsGone) {
  Parser parser({.buffer_size = 64});
  parser.feed(packet(0x30, str("t") + "x"));
  const std::uint8_t* buffer = nullptr;
  {
    ParsedPacket slot;
    ASSERT_TRUE(*parser.next_into(slot));
    buffer = slot.owner.data();
  }
  // No packet holds the buffer: a read that needs the whole of it (64 bytes, 6 used)
  // gets the same one back, moved to its start, instead of a fresh one.
  EXPECT_EQ(parser.prepare(60).data(), buffer);
}

}  // namespace
}  // namespace cicada::codec
