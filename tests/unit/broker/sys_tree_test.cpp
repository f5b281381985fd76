// The $SYS tree's pure part: Mosquitto's topic names and payload forms for each
// figure, and the "changed since the last publication" bookkeeping.
#include "broker/core/sys_tree.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace cicada::broker {
namespace {

std::map<std::string, std::string> by_topic(const std::vector<SysFigure>& figures) {
  std::map<std::string, std::string> out;
  for (const SysFigure& figure : figures) {
    EXPECT_TRUE(out.emplace(figure.topic, figure.payload).second) << "twice: " << figure.topic;
  }
  return out;
}

SysSample sample() {
  SysSample s;
  s.version = "cicada version 1.2.3";
  s.uptime_seconds = 75;
  s.clients_connected = 3;
  s.clients_maximum = 8;
  s.clients_total = 5;
  s.clients_expired = 1;
  s.messages_received = 40;
  s.messages_sent = 41;
  s.publish_received = 12;
  s.publish_sent = 13;
  s.publish_dropped = 2;
  s.publish_bytes_received = 300;
  s.publish_bytes_sent = 301;
  s.bytes_received = 1000;
  s.bytes_sent = 18446744073709551615ull;  // every digit of the largest counter
  s.subscriptions = 7;
  s.retained = 9;
  s.overload = {{"refused_topic_levels", 4}, {"auth_failures", 0}};
  return s;
}

TEST(SysFigures, MosquittoNamesAndPlainDecimalPayloads) {
  const auto figures = by_topic(sys_figures(sample()));
  const std::map<std::string, std::string> expected{
      {"$SYS/broker/version", "cicada version 1.2.3"},
      {"$SYS/broker/uptime", "75 seconds"},
      {"$SYS/broker/clients/connected", "3"},
      {"$SYS/broker/clients/maximum", "8"},
      {"$SYS/broker/clients/total", "5"},
      {"$SYS/broker/clients/disconnected", "2"},
      {"$SYS/broker/clients/expired", "1"},
      {"$SYS/broker/messages/received", "40"},
      {"$SYS/broker/messages/sent", "41"},
      {"$SYS/broker/publish/messages/received", "12"},
      {"$SYS/broker/publish/messages/sent", "13"},
      {"$SYS/broker/publish/messages/dropped", "2"},
      {"$SYS/broker/publish/bytes/received", "300"},
      {"$SYS/broker/publish/bytes/sent", "301"},
      {"$SYS/broker/bytes/received", "1000"},
      {"$SYS/broker/bytes/sent", "18446744073709551615"},
      {"$SYS/broker/subscriptions/count", "7"},
      {"$SYS/broker/retained messages/count", "9"},
      {"$SYS/broker/overload/refused_topic_levels", "4"},
      {"$SYS/broker/overload/auth_failures", "0"},
  };
  EXPECT_EQ(figures, expected);
}

TEST(SysFigures, DisconnectedNeverWrapsWhenAClientConnectsBetweenTheTwoReads) {
  SysSample s = sample();
  s.clients_total = 2;  // read before a third client's session was registered
  s.clients_connected = 3;
  EXPECT_EQ(by_topic(sys_figures(s)).at("$SYS/broker/clients/disconnected"), "0");
}

TEST(SysTree, FirstPublicationHasEveryFigure) {
  SysTree tree;
  const auto figures = sys_figures(sample());
  EXPECT_EQ(tree.changed(figures), figures);
}

TEST(SysTree, ThenOnlyWhatChanged) {
  SysTree tree;
  SysSample s = sample();
  tree.changed(sys_figures(s));
  EXPECT_TRUE(tree.changed(sys_figures(s)).empty());

  s.uptime_seconds = 85;
  s.clients_connected = 4;  // also moves clients/disconnected (5 - 4)
  s.overload[0].second = 5;
  EXPECT_EQ(by_topic(tree.changed(sys_figures(s))),
            (std::map<std::string, std::string>{
                {"$SYS/broker/uptime", "85 seconds"},
                {"$SYS/broker/clients/connected", "4"},
                {"$SYS/broker/clients/disconnected", "1"},
                {"$SYS/broker/overload/refused_topic_levels", "5"},
            }));
  EXPECT_TRUE(tree.changed(sys_figures(s)).empty());
}

TEST(SysTree, AValueThatComesBackIsPublishedAgain) {
  // Compared with the last publication only: 3 -> 4 -> 3 is two changes.
  SysTree tree;
  SysSample s = sample();
  tree.changed(sys_figures(s));
  s.clients_connected = 4;
  ASSERT_EQ(tree.changed(sys_figures(s)).size(), 2u);  // connected and disconnected
  s.clients_connected = 3;
  EXPECT_EQ(by_topic(tree.changed(sys_figures(s))).at("$SYS/broker/clients/connected"), "3");
}

TEST(SysTree, ANewTopicIsPublishedAndAGoneOneForgotten) {
  SysTree tree;
  tree.changed({{"$SYS/broker/a", "1"}, {"$SYS/broker/b", "2"}});
  EXPECT_EQ(tree.changed({{"$SYS/broker/a", "1"}, {"$SYS/broker/c", "3"}}),
            (std::vector<SysFigure>{{"$SYS/broker/c", "3"}}));
  // b was not in the last call: it counts as new when it returns.
  EXPECT_EQ(tree.changed({{"$SYS/broker/a", "1"}, {"$SYS/broker/b", "2"}}),
            (std::vector<SysFigure>{{"$SYS/broker/b", "2"}}));
}

}  // namespace
}  // namespace cicada::broker
