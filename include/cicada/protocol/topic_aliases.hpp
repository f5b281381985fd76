// Topic aliases of one connection (MQTT 5.0 section 3.3.2.3.4), both directions.
// Sans-I/O: plain tables the broker and the client library share.
// Thread-safety: single owner (the connection's worker or I/O thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cicada::protocol {

// Aliases the peer defined for the topics it sends us [MQTT-3.3.2-10]: valid for the
// connection only, at most `maximum` of them (our Topic Alias Maximum), holding at
// most `max_bytes` of topic names in all: 65,535 aliases of topics up to the packet
// size limit would otherwise let one connection pin gigabytes.
class InboundTopicAliases {
 public:
  static constexpr std::size_t default_max_bytes = 1 << 20;

  explicit InboundTopicAliases(std::uint16_t maximum = 0, std::size_t max_bytes = default_max_bytes)
      : maximum_(maximum), max_bytes_(max_bytes) {}
  std::uint16_t maximum() const noexcept { return maximum_; }
  void set_maximum(std::uint16_t maximum) noexcept { maximum_ = maximum; }
  std::size_t bytes() const noexcept { return bytes_; }

  enum class Result { ok, alias_out_of_range, unknown_alias, over_budget };
  // Resolves a PUBLISH's (topic, alias): a topic with an alias (re)defines it; an
  // empty topic uses it. On ok, `topic` is the topic to route. over_budget: the
  // definition would take the table past `max_bytes` (it is not stored).
  Result resolve(std::string_view& topic, std::uint16_t alias);

 private:
  std::uint16_t maximum_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::uint16_t, std::string> topics_;
};

// Aliases we assign to the topics we send most to the peer, within the peer's Topic
// Alias Maximum [MQTT-3.3.2-11]. The first topics sent get aliases while any are free;
// after that a topic sent more often than the least-used aliased topic takes its alias
// over (sending the topic with the alias again redefines the mapping on the peer).
// Memory is bounded: at most `limit` aliases and 4 x `limit` counted candidates.
class OutboundTopicAliases {
 public:
  explicit OutboundTopicAliases(std::uint16_t peer_maximum = 0, std::uint16_t limit = 128);

  struct Choice {
    std::uint16_t alias = 0;  // 0: send without an alias
    bool send_topic = true;   // false: the alias alone stands for the topic
  };
  Choice choose(std::string_view topic);
  std::size_t size() const noexcept { return by_topic_.size(); }

 private:
  std::uint16_t capacity_;
  std::unordered_map<std::string, std::uint16_t> by_topic_;
  std::vector<std::string> topics_;  // index alias - 1
  std::vector<std::uint64_t> uses_;  // index alias - 1
  std::unordered_map<std::string, std::uint64_t> candidates_;
};

}  // namespace cicada::protocol
