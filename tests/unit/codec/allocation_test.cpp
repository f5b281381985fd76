// Decoding a PUBLISH refers into the receive buffer: beyond that buffer, parsing a
// 64-byte QoS 0 PUBLISH allocates nothing (issue 2's definition of done).
#include <gtest/gtest.h>

#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

#include "alloc_counter.hpp"

namespace cicada::codec {
namespace {

std::string publish_bytes(ProtocolVersion version, QoS qos) {
  std::string payload(64, 'p');
  Publish publish{.qos = qos,
                  .topic = "sensors/room-1/temperature",
                  .packet_id = static_cast<std::uint16_t>(qos == QoS::at_most_once ? 0 : 1),
                  .payload = payload};
  return encode_to_string(publish, version);
}

// The counter itself works, so a zero below means something.
TEST(Allocation, CounterSeesAllocations) {
  std::size_t allocations = testing::count_allocations([] {
    auto* p = new int(1);
    delete p;
  });
  EXPECT_EQ(allocations, 1u);
}

TEST(Allocation, ParsingA64BytePublishAllocatesNothingButTheBuffer) {
  for (auto version : {ProtocolVersion::v3_1_1, ProtocolVersion::v5}) {
    for (auto qos : {QoS::at_most_once, QoS::at_least_once}) {
      std::string bytes = publish_bytes(version, qos);
      Parser parser({.version = version});
      parser.feed(bytes);  // allocates the receive buffer: the one allowed allocation
      std::size_t allocations = testing::count_allocations([&] {
        auto parsed = parser.next();
        ASSERT_TRUE(parsed && parsed->has_value());
        const auto& publish = std::get<Publish>((*parsed)->packet);
        // The payload is a view into the receive buffer, not a copy.
        const char* begin = reinterpret_cast<const char*>((*parsed)->owner.data());
        EXPECT_GE(publish.payload.data(), begin);
        EXPECT_LE(publish.payload.data() + publish.payload.size(),
                  begin + (*parsed)->owner.capacity());
      });
      EXPECT_EQ(allocations, 0u) << to_string(version) << " QoS " << static_cast<int>(qos);
    }
  }
}

TEST(Allocation, EncodingAPublishHeaderAllocatesNothing) {
  std::string payload(64, 'p');
  Publish publish{.topic = "a/b", .payload = payload};
  std::uint8_t out[16];
  std::size_t allocations = testing::count_allocations(
      [&] { EXPECT_EQ(encode_publish_header(publish, ProtocolVersion::v5, out), 8u); });
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace cicada::codec
