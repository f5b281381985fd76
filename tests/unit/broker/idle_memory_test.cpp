// What an idle connection costs the broker (docs/performance.md, "RSS per idle
// connection", bar 1 KiB): the sizes of the objects every connection and session
// holds. A size is not a timing: these fail only when a member is added, and then
// the author decides whether it belongs on every connection or behind a pointer.
#include <gtest/gtest.h>

#include <cicada/codec/parser.hpp>

#include "broker/core/connection.hpp"
#include "broker/core/session.hpp"

namespace cicada::broker {
namespace {

// Measured 304 bytes. With make_shared's 16-byte control block that is 320: jemalloc's
// 320-byte size class (release builds, cmake/allocator.cmake; 8 bytes more take the
// 384 class) and glibc's 336-byte chunk (request + 8, rounded up to 16). New state
// goes behind a pointer that already exists (identity_, connect_, out_) or a new
// one, not beside them.
constexpr std::size_t connection_budget = 304;
// Measured 72 (an 80-byte chunk): the exchanges and the subscriptions live behind
// pointers, the limits and counters in the worker's SessionEnv.
constexpr std::size_t session_budget = 72;
constexpr std::size_t parser_budget = 48;
// Measured 56: with its control block a 72-byte request, an 80-byte chunk.
constexpr std::size_t session_handle_budget = 56;

TEST(IdleMemory, ConnectionFitsItsBudget) {
  EXPECT_LE(sizeof(Connection), connection_budget)
      << "every connection pays for this: keep rarely used state behind a pointer";
}

TEST(IdleMemory, SessionFitsItsBudget) {
  EXPECT_LE(sizeof(Session), session_budget) << "every session pays for this, connected or not";
}

TEST(IdleMemory, SessionHandleFitsItsBudget) {
  EXPECT_LE(sizeof(SessionHandle), session_handle_budget) << "one per session, shared";
}

TEST(IdleMemory, ParserFitsItsBudget) {
  EXPECT_LE(sizeof(codec::Parser), parser_budget) << "one per connection";
}

}  // namespace
}  // namespace cicada::broker
