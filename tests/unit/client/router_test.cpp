#include <gtest/gtest.h>

#include <cicada/client/router.hpp>

namespace cicada::client {
namespace {

ReceivedMessage message(std::string topic) {
  ReceivedMessage m;
  m.topic = std::move(topic);
  return m;
}

TEST(MessageRouter, WildcardsAndDefault) {
  MessageRouter router;
  std::vector<std::string> calls;
  router.add("a/+/c", [&](const ReceivedMessage& m) { calls.push_back("plus:" + m.topic); });
  router.add("a/#", [&](const ReceivedMessage& m) { calls.push_back("hash:" + m.topic); });
  router.set_default([&](const ReceivedMessage& m) { calls.push_back("default:" + m.topic); });

  EXPECT_EQ(router.dispatch(message("a/b/c")), 2u);
  EXPECT_EQ(router.dispatch(message("a/x")), 1u);
  EXPECT_EQ(router.dispatch(message("z")), 1u);
  EXPECT_EQ(calls, (std::vector<std::string>{"plus:a/b/c", "hash:a/b/c", "hash:a/x", "default:z"}));
}

TEST(MessageRouter, DollarTopicsDoNotMatchLeadingWildcard) {
  MessageRouter router;
  int hash = 0;
  int fallback = 0;
  router.add("#", [&](const ReceivedMessage&) { ++hash; });
  router.set_default([&](const ReceivedMessage&) { ++fallback; });
  router.dispatch(message("$SYS/x"));  // [MQTT-4.7.2-1]
  EXPECT_EQ(hash, 0);
  EXPECT_EQ(fallback, 1);
}

TEST(MessageRouter, SharedFilterRoutesByInnerFilter) {
  MessageRouter router;
  int hits = 0;
  router.add("$share/g/jobs/+", [&](const ReceivedMessage&) { ++hits; });
  router.dispatch(message("jobs/1"));
  EXPECT_EQ(hits, 1);
}

TEST(MessageRouter, RemoveAndNoHandler) {
  MessageRouter router;
  int hits = 0;
  router.add("t", [&](const ReceivedMessage&) { ++hits; });
  EXPECT_EQ(router.remove("t"), 1u);
  EXPECT_EQ(router.dispatch(message("t")), 0u);
  EXPECT_EQ(hits, 0);
}

TEST(MessageRouter, HandlerMayChangeRoutes) {
  MessageRouter router;
  int hits = 0;
  router.add("t", [&](const ReceivedMessage&) {
    ++hits;
    router.add("u", [](const ReceivedMessage&) {});  // no deadlock: no lock held
  });
  router.dispatch(message("t"));
  EXPECT_EQ(hits, 1);
}

}  // namespace
}  // namespace cicada::client
