// The benchmark payload: layout, in-place patching, and foreign payloads.
#include "payload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cicada::bench {
namespace {

std::string_view view(const std::vector<std::uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(Payload, RoundTrips) {
  std::vector<std::uint8_t> bytes(64);
  const PayloadHeader header{.run_id = 0xDEADBEEF,
                             .publisher = 17,
                             .sequence = 0x0102030405060708,
                             .sent_ns = 123'456'789'012};
  write_payload(bytes, header);
  auto read = read_payload(view(bytes));
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, header);
  // Padding fills the rest.
  for (std::size_t i = payload_header_size; i < bytes.size(); ++i)
    EXPECT_EQ(bytes[i], '.');
}

TEST(Payload, LayoutIsLittleEndianAtDocumentedOffsets) {
  std::vector<std::uint8_t> bytes(payload_header_size);
  write_payload(bytes, {.run_id = 1, .publisher = 2, .sequence = 3, .sent_ns = 4});
  EXPECT_EQ(std::string(view(bytes).substr(0, 4)), "CBN1");
  EXPECT_EQ(bytes[4], 1);
  EXPECT_EQ(bytes[8], 2);
  EXPECT_EQ(bytes[payload_sequence_offset], 3);
  EXPECT_EQ(bytes[payload_time_offset], 4);
  EXPECT_EQ(load_le64(bytes.data() + payload_sequence_offset), 3u);
}

TEST(Payload, PatchChangesOnlySequenceAndTime) {
  std::vector<std::uint8_t> bytes(40);
  write_payload(bytes, {.run_id = 9, .publisher = 8, .sequence = 0, .sent_ns = 0});
  const std::vector<std::uint8_t> before = bytes;
  patch_payload(bytes.data(), 77, 88);
  auto read = read_payload(view(bytes));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->sequence, 77u);
  EXPECT_EQ(read->sent_ns, 88u);
  EXPECT_EQ(read->run_id, 9u);
  EXPECT_EQ(read->publisher, 8u);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i >= payload_sequence_offset && i < payload_header_size) continue;
    EXPECT_EQ(bytes[i], before[i]) << i;
  }
}

TEST(Payload, ForeignPayloadsAreRecognised) {
  EXPECT_FALSE(read_payload("hello"));
  EXPECT_FALSE(read_payload(std::string(64, 'x')));
  std::vector<std::uint8_t> bytes(payload_header_size);
  write_payload(bytes, {});
  EXPECT_TRUE(read_payload(view(bytes)));
  EXPECT_FALSE(read_payload(view(bytes).substr(0, payload_header_size - 1)));
}

TEST(Payload, StoreAndLoadAreInverse) {
  std::uint8_t bytes[8];
  for (std::uint64_t v : {0ull, 1ull, 0x8000000000000000ull, 0xFFFFFFFFFFFFFFFFull}) {
    store_le64(bytes, v);
    EXPECT_EQ(load_le64(bytes), v);
  }
}

}  // namespace
}  // namespace cicada::bench
