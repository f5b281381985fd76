// Helpers shared by the broker core unit tests: a SessionSink that records what it is
// given, and builders for messages. No sockets, no clock: tests pass TimePoints.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <cicada/base/shared_buffer.hpp>
#include <cicada/codec/packets.hpp>

#include "broker/core/message.hpp"
#include "broker/core/session.hpp"

namespace cicada::broker::testing_support {

using codec::QoS;
using SendResult = SessionSink::SendResult;

// Records every PUBLISH header and every other packet it is given, in order, and answers
// send_publish with a scripted result (`script`, front first), else `result`.
class FakeSink : public SessionSink {
 public:
  struct Attempt {
    codec::Publish publish;  // views stay valid: `message` keeps the bytes alive
    MessagePtr message;
    SendResult result;
  };

  SendResult send_publish(const codec::Publish& publish, const MessagePtr& message) override {
    SendResult answer = result;
    if (!script.empty()) {
      answer = script.front();
      script.pop_front();
    }
    attempts.push_back({publish, message, answer});
    if (answer == SendResult::sent) log.emplace_back(publish);
    return answer;
  }

  void send_packet(const codec::Packet& packet) override { log.push_back(packet); }

  // The PUBLISH packets that were accepted, in order.
  std::vector<codec::Publish> publishes() const {
    std::vector<codec::Publish> out;
    for (const Attempt& attempt : attempts) {
      if (attempt.result == SendResult::sent) out.push_back(attempt.publish);
    }
    return out;
  }
  // The payloads of the accepted PUBLISH packets, in order.
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    for (const codec::Publish& publish : publishes())
      out.emplace_back(publish.payload);
    return out;
  }
  // The ids of the PUBREL packets sent, in order.
  std::vector<std::uint16_t> pubrels() const {
    std::vector<std::uint16_t> out;
    for (const codec::Packet& packet : log) {
      if (const auto* pubrel = std::get_if<codec::Pubrel>(&packet))
        out.push_back(pubrel->packet_id);
    }
    return out;
  }
  void clear() {
    attempts.clear();
    log.clear();
  }

  SendResult result = SendResult::sent;
  std::deque<SendResult> script;
  std::vector<Attempt> attempts;
  // Accepted PUBLISH headers and every other packet, in the order the session sent them.
  std::vector<codec::Packet> log;
};

// A message whose topic and payload live in one receive-like buffer, as a parsed PUBLISH's do.
inline std::shared_ptr<Message> make_message(std::string_view topic, std::string_view payload,
                                             QoS qos = QoS::at_least_once, bool retain = false) {
  auto message = std::make_shared<Message>();
  message->owner = SharedBuffer::copy_of(std::string(topic) + std::string(payload));
  message->topic = message->owner.view(0, topic.size());
  message->payload = message->owner.view(topic.size(), payload.size());
  message->qos = qos;
  message->retain = retain;
  return message;
}

// True when `view` points into the bytes of `buffer`.
inline bool points_into(std::string_view view, const SharedBuffer& buffer) {
  if (view.empty() || !buffer) return false;
  const auto begin = reinterpret_cast<std::uintptr_t>(buffer.data());
  const auto at = reinterpret_cast<std::uintptr_t>(view.data());
  return at >= begin && at < begin + buffer.capacity();
}

}  // namespace cicada::broker::testing_support
