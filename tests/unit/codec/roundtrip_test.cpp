// Every packet of every version survives encode -> decode unchanged, whether the
// bytes arrive whole, one at a time, or many packets at once.
#include <gtest/gtest.h>

#include <cicada/codec/decode.hpp>
#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

#include "sample_packets.hpp"

namespace cicada::codec {
namespace {

using testing::Sample;

std::vector<Sample> all_samples() {
  std::vector<Sample> out;
  for (auto version : {ProtocolVersion::v3_1, ProtocolVersion::v3_1_1, ProtocolVersion::v5}) {
    auto some = testing::samples(version);
    out.insert(out.end(), some.begin(), some.end());
  }
  return out;
}

std::string sample_name(const ::testing::TestParamInfo<Sample>& info) {
  std::string version = info.param.version == ProtocolVersion::v5       ? "v5"
                        : info.param.version == ProtocolVersion::v3_1_1 ? "v311"
                                                                        : "v31";
  return version + "_" + info.param.name;
}

class RoundTrip : public ::testing::TestWithParam<Sample> {};

TEST_P(RoundTrip, DecodesToTheSamePacket) {
  const Sample& sample = GetParam();
  std::string bytes = encode_to_string(sample.packet, sample.version);
  ASSERT_EQ(bytes.size(), encoded_size(sample.packet, sample.version));
  auto decoded = decode_packet(bytes, sample.version);
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(type_of(*decoded), type_of(sample.packet));
  EXPECT_TRUE(*decoded == sample.packet);
  // Re-encoding the decoded packet gives the same bytes.
  EXPECT_EQ(encode_to_string(*decoded, sample.version), bytes);
}

TEST_P(RoundTrip, ParsesOneByteAtATime) {
  const Sample& sample = GetParam();
  std::string bytes = encode_to_string(sample.packet, sample.version);
  Parser parser({.max_packet_size = 1 << 20, .buffer_size = 8, .version = sample.version});
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    parser.feed(bytes.substr(i, 1));
    auto none = parser.next();
    ASSERT_TRUE(none) << none.error().detail;
    ASSERT_FALSE(none->has_value()) << "packet complete after " << i + 1 << " bytes";
  }
  parser.feed(bytes.substr(bytes.size() - 1));
  auto parsed = parser.next();
  ASSERT_TRUE(parsed) << parsed.error().detail;
  ASSERT_TRUE(parsed->has_value());
  EXPECT_TRUE((*parsed)->packet == sample.packet);
  EXPECT_EQ((*parsed)->wire_size, bytes.size());
  EXPECT_EQ(parser.buffered(), 0u);
}

INSTANTIATE_TEST_SUITE_P(AllPackets, RoundTrip, ::testing::ValuesIn(all_samples()), sample_name);

// The gathered form (header bytes, then the shared payload) is byte-identical to
// encoding the whole PUBLISH.
TEST(RoundTripPublish, HeaderPlusPayloadEqualsTheWholePacket) {
  int checked = 0;
  for (const Sample& sample : all_samples()) {
    const auto* publish = std::get_if<Publish>(&sample.packet);
    if (publish == nullptr) continue;
    std::string whole = encode_to_string(sample.packet, sample.version);
    std::string header(publish_header_size(*publish, sample.version), '\0');
    std::size_t written = encode_publish_header(
        *publish, sample.version, {reinterpret_cast<std::uint8_t*>(header.data()), header.size()});
    ASSERT_EQ(written, header.size()) << sample.name;
    EXPECT_EQ(header + std::string(publish->payload), whole) << sample.name;
    ++checked;
  }
  EXPECT_GE(checked, 9);
}

TEST(RoundTripStream, ManyPacketsInOneFeed) {
  for (auto version : {ProtocolVersion::v3_1, ProtocolVersion::v3_1_1, ProtocolVersion::v5}) {
    auto samples = testing::samples(version);
    std::string stream;
    for (const auto& sample : samples)
      stream += encode_to_string(sample.packet, version);
    Parser parser({.version = version});
    parser.feed(stream);
    for (const auto& sample : samples) {
      // A CONNECT switches the parser to its own version, which is `version` here.
      auto parsed = parser.next();
      ASSERT_TRUE(parsed) << sample.name << ": " << parsed.error().detail;
      ASSERT_TRUE(parsed->has_value()) << sample.name;
      EXPECT_TRUE((*parsed)->packet == sample.packet) << sample.name;
    }
    auto end = parser.next();
    ASSERT_TRUE(end);
    EXPECT_FALSE(end->has_value());
  }
}

}  // namespace
}  // namespace cicada::codec
