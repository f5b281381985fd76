// SysPublisher with a real Router and real Workers: its figures are the sums of every
// worker's counters, and its publications enter the router as retained messages from
// the broker, which wildcard filters at the first level do not match [MQTT-4.7.2-1].
// The tests wait for the worker's timer by polling the retained store (with a generous
// deadline), never asserting how long anything took.
#include "broker/core/sys_publisher.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/core/overload_counters.hpp"
#include "broker/core/router.hpp"
#include "broker/core/worker.hpp"

namespace cicada::broker {
namespace {

using namespace std::chrono_literals;

class SysPublisherTest : public ::testing::Test {
 protected:
  SysPublisherTest()
      : router_(config_, 2, [this](std::uint32_t worker, std::vector<Delivery>&& batch) {
          workers_[worker]->dispatch(std::move(batch));
        }) {
    for (std::uint32_t i = 0; i < 2; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, config_, router_, auth_));
      pointers_.push_back(workers_.back().get());
    }
    for (auto& worker : workers_)
      worker->set_peers(pointers_);
  }
  ~SysPublisherTest() override {
    for (auto& worker : workers_)
      worker->shutdown();
    for (auto& worker : workers_)
      worker->join();
  }
  void start_workers() {
    for (auto& worker : workers_)
      worker->start();
  }

  // The retained $SYS messages by topic.
  std::map<std::string, MessagePtr> retained_sys() const {
    std::map<std::string, MessagePtr> out;
    for (const MessagePtr& message : router_.retained_for("$SYS/#", 1000)) {
      out.emplace(std::string(message->topic), message);
    }
    return out;
  }
  // Polls until the retained payload of `topic` is `payload`; returns the last one seen.
  std::string wait_for_payload(const std::string& topic, const std::string& payload) const {
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto sys = retained_sys();
      if (auto it = sys.find(topic); it != sys.end()) seen = std::string(it->second->payload);
      if (seen == payload) break;
      std::this_thread::sleep_for(10ms);
    }
    return seen;
  }

  Config config_;
  AllowAll auth_;
  Router router_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Worker*> pointers_;
};

TEST_F(SysPublisherTest, SampleSumsTheCountersOfEveryWorker) {
  SysPublisher publisher(pointers_, router_, 60s);
  WorkerStats::add(workers_[0]->stats().packets_received, 3);
  WorkerStats::add(workers_[1]->stats().packets_received, 4);
  WorkerStats::add(workers_[0]->stats().bytes_sent, 100);
  WorkerStats::add(workers_[1]->stats().bytes_sent, 23);
  WorkerStats::add(workers_[1]->stats().clients_connected);
  workers_[0]->stats().refused_listener_max_connections.fetch_add(2);
  workers_[1]->stats().refused_listener_max_connections.fetch_add(5);

  const SysSample s = publisher.sample(Clock::now());
  EXPECT_EQ(s.messages_received, 7u);
  EXPECT_EQ(s.bytes_sent, 123u);
  EXPECT_EQ(s.clients_connected, 1u);
  std::map<std::string, std::uint64_t> overload;
  for (const auto& [name, value] : s.overload)
    overload.emplace(name, value);
  // Every counter of the exit log line, each once.
  EXPECT_EQ(overload.size(), std::size(overload_counters));
  EXPECT_EQ(overload.at("refused_listener_max_connections"), 7u);
  EXPECT_EQ(overload.at("auth_failures"), 0u);
}

TEST_F(SysPublisherTest, PublishesRetainedFiguresThroughTheRouter) {
  start_workers();
  SysPublisher publisher(pointers_, router_, 1s);
  publisher.start();
  // The first publication comes at once and has every figure.
  EXPECT_EQ(wait_for_payload("$SYS/broker/clients/connected", "0"), "0");
  const auto sys = retained_sys();
  const SysSample s = publisher.sample(Clock::now());
  EXPECT_EQ(sys.size(), sys_figures(s).size() + 3 * sys_load_counts(s).size());
  ASSERT_TRUE(sys.contains("$SYS/broker/load/messages/received/15min"));
  EXPECT_EQ(sys.at("$SYS/broker/load/messages/received/15min")->payload, "0.00");
  ASSERT_TRUE(sys.contains("$SYS/broker/version"));
  EXPECT_TRUE(std::string(sys.at("$SYS/broker/version")->payload).starts_with("cicada version "));
  for (const auto& [topic, message] : sys) {
    EXPECT_TRUE(message->retain) << topic;
    EXPECT_EQ(message->qos, codec::QoS::at_most_once) << topic;
    EXPECT_EQ(message->publisher, 0u) << topic;
  }

  // A counter that moves on another worker is published at the next interval.
  workers_[1]->stats().refused_topic_levels.fetch_add(2);
  EXPECT_EQ(wait_for_payload("$SYS/broker/overload/refused_topic_levels", "2"), "2");

  // [MQTT-4.7.2-1] a filter with a wildcard first level does not match $SYS topics.
  EXPECT_TRUE(router_.retained_for("#", 1000).empty());
  EXPECT_TRUE(router_.retained_for("+/broker/version", 1000).empty());
  EXPECT_EQ(router_.retained_for("$SYS/broker/+", 1000).size(), 2u);  // version, uptime
}

}  // namespace
}  // namespace cicada::broker
