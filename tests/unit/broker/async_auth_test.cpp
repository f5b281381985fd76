// Authentication and authorization are asynchronous: while one client's CONNECT,
// SUBSCRIBE or PUBLISH waits for an answer, the worker serves everyone else. An
// in-process broker with hooks that hold chosen answers until the test releases them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

#include "broker/core/broker.hpp"

namespace cicada::broker {
namespace {

using namespace codec;

// Answers at once, except for client ids starting with "held": those answers wait in
// a list until release() runs them on this test's thread (another thread than the
// workers, as an HTTP hook would answer).
class HoldingHooks final : public AuthHooks {
 public:
  void authenticate(const ConnectRequest& request,
                    std::function<void(AuthDecision)> done) override {
    if (!request.client_id.starts_with("held")) return done(AuthDecision{});
    hold([done] { done(AuthDecision{}); });
  }
  void authorize(const AccessRequest& request, std::function<void(bool)> done) override {
    if (!request.client_id.starts_with("held")) return done(request.topic != "forbidden");
    hold([done] { done(true); });
  }
  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  void release() {
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard lock(mutex_);
      answers.swap(held_);
    }
    for (auto& answer : answers)
      answer();
  }

 private:
  void hold(std::function<void()> answer) {
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(answer));
  }
  std::mutex mutex_;
  std::vector<std::function<void()>> held_;
};

// A blocking MQTT 5 test client over a plain socket, using Cicada's own codec.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Client() { ::close(fd_); }

  void send(const Packet& packet) {
    std::string bytes = encode_to_string(packet, ProtocolVersion::v5);
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  // The next packet, or nullopt on timeout / close.
  std::optional<ParsedPacket> receive() {
    while (true) {
      auto next = parser_.next();
      if (!next) return std::nullopt;
      if (next->has_value()) return std::move(**next);
      auto space = parser_.prepare(4096);
      ssize_t n = ::recv(fd_, space.data(), space.size(), 0);
      if (n <= 0) return std::nullopt;
      parser_.commit(static_cast<std::size_t>(n));
    }
  }
  // Whether a packet is waiting within `ms` milliseconds (does not consume it).
  bool readable(int ms) {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd_, &set);
    timeval timeout{0, ms * 1000};
    return parser_.buffered() > 0 || ::select(fd_ + 1, &set, nullptr, nullptr, &timeout) > 0;
  }

 private:
  int fd_;
  Parser parser_{{.version = ProtocolVersion::v5}};
};

class AsyncAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config;
    config.worker_threads = 1;  // everyone on one worker: it must not be blocked
    config.tcp_listeners = {{.name = "test", .host = "127.0.0.1", .port = 0}};
    auto hooks = std::make_unique<HoldingHooks>();
    hooks_ = hooks.get();
    broker_ = std::make_unique<Broker>(config, std::move(hooks));
    broker_->start();
    port_ = broker_->listeners().front()->endpoint().port();
  }
  void TearDown() override {
    hooks_->release();
    broker_->stop();
    broker_->wait();
  }
  std::unique_ptr<Client> connected(const std::string& id) {
    auto client = std::make_unique<Client>(port_);
    client->send(Connect{.version = ProtocolVersion::v5, .client_id = id});
    auto connack = client->receive();
    EXPECT_TRUE(connack && std::holds_alternative<Connack>(connack->packet));
    return client;
  }
  void wait_for_held(std::size_t count) {
    for (int i = 0; i < 500 && hooks_->held() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(hooks_->held(), count);
  }

  HoldingHooks* hooks_ = nullptr;
  std::unique_ptr<Broker> broker_;
  std::uint16_t port_ = 0;
};

TEST_F(AsyncAuth, AConnectWaitingForAnAnswerDelaysNoOneElse) {
  auto other = connected("other");
  other->send(Subscribe{.packet_id = 1, .subscriptions = {{"t", {.max_qos = QoS::at_least_once}}}});
  ASSERT_TRUE(other->receive());  // SUBACK

  Client held(port_);
  held.send(Connect{.version = ProtocolVersion::v5, .client_id = "held-1"});
  wait_for_held(1);

  // While held-1's CONNECT waits, the same worker serves "other" end to end.
  other->send(Publish{.qos = QoS::at_least_once, .topic = "t", .packet_id = 2, .payload = "x"});
  bool got_puback = false, got_publish = false;
  for (int i = 0; i < 2; ++i) {
    auto packet = other->receive();
    ASSERT_TRUE(packet);
    got_puback |= std::holds_alternative<Puback>(packet->packet);
    got_publish |= std::holds_alternative<Publish>(packet->packet);
  }
  EXPECT_TRUE(got_puback && got_publish);
  EXPECT_FALSE(held.readable(50)) << "CONNACK before the answer";

  hooks_->release();
  auto connack = held.receive();
  ASSERT_TRUE(connack);
  EXPECT_EQ(std::get<Connack>(connack->packet).reason_code, ReasonCode::success);
}

TEST_F(AsyncAuth, APublishWaitsForItsAnswerAndKeepsTheClientsOrder) {
  auto subscriber = connected("subscriber");
  subscriber->send(Subscribe{.packet_id = 1, .subscriptions = {{"t/#", {}}}});
  ASSERT_TRUE(subscriber->receive());

  hooks_->release();
  Client held(port_);
  held.send(Connect{.version = ProtocolVersion::v5, .client_id = "held-pub"});
  wait_for_held(1);
  hooks_->release();
  ASSERT_TRUE(held.receive());  // CONNACK

  held.send(Publish{.topic = "t/1", .payload = "first"});
  held.send(Publish{.topic = "t/2", .payload = "second"});
  wait_for_held(1);  // only the first is asked: the second waits behind it
  EXPECT_FALSE(subscriber->readable(50));
  hooks_->release();
  wait_for_held(1);
  hooks_->release();
  auto first = subscriber->receive();
  auto second = subscriber->receive();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(std::get<Publish>(first->packet).payload, "first");
  EXPECT_EQ(std::get<Publish>(second->packet).payload, "second");
}

TEST_F(AsyncAuth, RefusedPublishAndSubscribeGet0x87) {
  auto client = connected("plain");
  client->send(Subscribe{.packet_id = 1, .subscriptions = {{"forbidden", {}}, {"allowed", {}}}});
  auto suback = client->receive();
  ASSERT_TRUE(suback);
  EXPECT_EQ(std::get<Suback>(suback->packet).reason_codes,
            (std::vector<ReasonCode>{ReasonCode::not_authorized, ReasonCode::success}));
  client->send(Publish{.qos = QoS::at_least_once, .topic = "forbidden", .packet_id = 7});
  auto puback = client->receive();
  ASSERT_TRUE(puback);
  EXPECT_EQ(std::get<Puback>(puback->packet).reason_code, ReasonCode::not_authorized);
}

}  // namespace
}  // namespace cicada::broker
