#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include <cicada/base/shared_buffer.hpp>

namespace cicada {
namespace {

TEST(SharedBuffer, EmptyHandleHasNothing) {
  SharedBuffer buffer;
  EXPECT_FALSE(buffer);
  EXPECT_EQ(buffer.capacity(), 0u);
  EXPECT_EQ(buffer.use_count(), 0u);
  EXPECT_EQ(buffer.data(), nullptr);
}

TEST(SharedBuffer, CopiesShareTheBlockAndCountReferences) {
  SharedBuffer a = SharedBuffer::copy_of("hello");
  EXPECT_TRUE(a.unique());
  SharedBuffer b = a;
  EXPECT_EQ(a.use_count(), 2u);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(b.view(1, 3), "ell");
  b.reset();
  EXPECT_TRUE(a.unique());
}

TEST(SharedBuffer, MoveTransfersWithoutTouchingTheCount) {
  SharedBuffer a = SharedBuffer::allocate(16);
  const std::uint8_t* data = a.data();
  SharedBuffer b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.data(), data);
  EXPECT_TRUE(b.unique());
  SharedBuffer c;
  c = std::move(b);
  EXPECT_TRUE(c.unique());
  EXPECT_EQ(c.capacity(), 16u);
}

TEST(SharedBuffer, AssignmentReleasesThePreviousBlock) {
  SharedBuffer a = SharedBuffer::copy_of("a");
  SharedBuffer b = SharedBuffer::copy_of("b");
  SharedBuffer keep_b = b;
  b = a;
  EXPECT_EQ(a.use_count(), 2u);
  EXPECT_TRUE(keep_b.unique());
  b = b;  // self-assignment keeps the block
  EXPECT_EQ(b.view(0, 1), "a");
}

// Handles dropped on several threads at once free the block exactly once; under
// AddressSanitizer a double free or a leak fails this test.
TEST(SharedBuffer, ReferenceCountIsThreadSafe) {
  SharedBuffer buffer = SharedBuffer::copy_of("shared across threads");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([copy = buffer]() mutable {
      for (int i = 0; i < 10000; ++i) {
        SharedBuffer again = copy;
        again.reset();
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_TRUE(buffer.unique());
}

}  // namespace
}  // namespace cicada
