// Mosquitto's load averages: a counter's rate per minute, smoothed over 1, 5 and 15
// minutes by exponentially decaying averages. Times are passed in: nothing here waits.
#include "broker/core/sys_load.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace cicada::broker {
namespace {

using std::chrono::seconds;

std::map<std::string, std::string> by_topic(const std::vector<SysFigure>& figures) {
  std::map<std::string, std::string> out;
  for (const SysFigure& figure : figures)
    out.emplace(figure.topic, figure.payload);
  return out;
}

std::vector<SysLoad::Count> one(std::uint64_t total) {
  return {{"messages/received", total}};
}

TEST(SysLoad, FirstCallPublishesZeroForEveryWindow) {
  SysLoad load;
  EXPECT_EQ(by_topic(load.update(one(5000), seconds(0))),
            (std::map<std::string, std::string>{
                {"$SYS/broker/load/messages/received/1min", "0.00"},
                {"$SYS/broker/load/messages/received/5min", "0.00"},
                {"$SYS/broker/load/messages/received/15min", "0.00"},
            }));
}

TEST(SysLoad, OneIntervalMovesEachAverageTowardsTheRate) {
  SysLoad load;
  load.update(one(1000), seconds(0));
  // 60 more in 60 s: 60 a minute. Each average moves by 1 - e^(-60/window) of the way.
  const auto figures = by_topic(load.update(one(1060), seconds(60)));
  EXPECT_EQ(figures.at("$SYS/broker/load/messages/received/1min"), "37.93");  // 60 (1 - e^-1)
  EXPECT_EQ(figures.at("$SYS/broker/load/messages/received/5min"), "10.88");  // 60 (1 - e^-0.2)
  EXPECT_EQ(figures.at("$SYS/broker/load/messages/received/15min"), "3.87");  // 60 (1 - e^-1/15)
}

TEST(SysLoad, ASteadyRateIsReachedWhateverTheInterval) {
  // 30 a minute, sampled every 10 s: every average converges on 30.00.
  SysLoad load;
  std::uint64_t total = 0;
  load.update(one(total), seconds(0));
  std::map<std::string, std::string> figures;
  for (int i = 0; i < 6 * 60 * 3; ++i) {  // three hours
    total += 5;
    figures = by_topic(load.update(one(total), seconds(10)));
  }
  for (const auto& [topic, payload] : figures)
    EXPECT_EQ(payload, "30.00") << topic;
}

TEST(SysLoad, IdleIntervalsDecayTowardsZero) {
  SysLoad load;
  load.update(one(0), seconds(0));
  load.update(one(600), seconds(60));                               // 600 a minute
  const auto after = by_topic(load.update(one(600), seconds(60)));  // nothing since
  // The 1-minute average falls by e^-1: 600 (1 - e^-1) e^-1.
  const double expected = 600 * (1 - std::exp(-1.0)) * std::exp(-1.0);
  EXPECT_NEAR(std::stod(after.at("$SYS/broker/load/messages/received/1min")), expected, 0.01);
}

TEST(SysLoad, EveryCounterHasItsOwnAverages) {
  SysLoad load;
  const std::vector<SysLoad::Count> first{{"bytes/received", 0}, {"sockets", 0}};
  const std::vector<SysLoad::Count> second{{"bytes/received", 6000}, {"sockets", 0}};
  load.update(first, seconds(0));
  const auto figures = by_topic(load.update(second, seconds(60)));
  EXPECT_EQ(figures.size(), 6u);
  EXPECT_EQ(figures.at("$SYS/broker/load/bytes/received/1min"), "3792.72");  // 6000 (1 - e^-1)
  EXPECT_EQ(figures.at("$SYS/broker/load/sockets/1min"), "0.00");
}

TEST(SysLoad, MosquittosNineCounters) {
  SysSample s;
  s.messages_received = 1;
  s.sockets_accepted = 8;
  s.connects = 9;
  std::map<std::string, std::uint64_t> names;
  for (const auto& [name, total] : sys_load_counts(s))
    names.emplace(name, total);
  EXPECT_EQ(names, (std::map<std::string, std::uint64_t>{{"messages/received", 1},
                                                         {"messages/sent", 0},
                                                         {"publish/dropped", 0},
                                                         {"publish/received", 0},
                                                         {"publish/sent", 0},
                                                         {"bytes/received", 0},
                                                         {"bytes/sent", 0},
                                                         {"sockets", 8},
                                                         {"connections", 9}}));
}

}  // namespace
}  // namespace cicada::broker
