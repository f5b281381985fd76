// The JSON line scripts read: the connect phase and its rate (used by scripts/bench's
// connection scenario).
#include "report.hpp"

#include <gtest/gtest.h>

namespace cicada::bench {
namespace {

TEST(SummaryJson, CarriesConnectPhaseAndRate) {
  Summary s{.scenario = "conn", .broker = "mqtt://127.0.0.1:1883", .protocol = "5.0"};
  s.idle = 1000;
  s.connected = 1000;
  s.connect_s = 0.5;
  const std::string json = summary_json(s);
  EXPECT_NE(json.find("\"connect_s\":0.500"), std::string::npos) << json;
  EXPECT_NE(json.find("\"connect_per_s\":2000.0"), std::string::npos) << json;
}

TEST(SummaryJson, ConnectRateIsZeroWithoutAConnectPhase) {
  Summary s{.scenario = "conn", .broker = "mqtt://127.0.0.1:1883", .protocol = "5.0"};
  const std::string json = summary_json(s);
  EXPECT_NE(json.find("\"connect_per_s\":0.0"), std::string::npos) << json;
}

}  // namespace
}  // namespace cicada::bench
