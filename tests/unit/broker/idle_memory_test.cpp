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

// Measured 360 bytes; room for the two pointers planned on other branches
// (net::StreamLayer for TLS/WebSocket, a publish rate limiter).
constexpr std::size_t connection_budget = 360 + 16;
// Measured 120: the exchanges and the subscriptions live behind pointers.
constexpr std::size_t session_budget = 128;
constexpr std::size_t parser_budget = 48;

TEST(IdleMemory, ConnectionFitsItsBudget) {
  EXPECT_LE(sizeof(Connection), connection_budget)
      << "every connection pays for this: keep rarely used state behind a pointer";
}

TEST(IdleMemory, SessionFitsItsBudget) {
  EXPECT_LE(sizeof(Session), session_budget) << "every session pays for this, connected or not";
}

TEST(IdleMemory, ParserFitsItsBudget) {
  EXPECT_LE(sizeof(codec::Parser), parser_budget) << "one per connection";
}

}  // namespace
}  // namespace cicada::broker
