#include <algorithm>

#include <cicada/protocol/topic_aliases.hpp>

namespace cicada::protocol {

InboundTopicAliases::Result InboundTopicAliases::resolve(std::string_view& topic,
                                                         std::uint16_t alias) {
  // [MQTT-3.3.2-9] an alias above the Topic Alias Maximum we sent is invalid.
  if (alias == 0 || alias > maximum_) return Result::alias_out_of_range;
  if (!topic.empty()) {
    std::string& slot = topics_[alias];
    if (bytes_ - slot.size() + topic.size() > max_bytes_) {
      if (slot.empty()) topics_.erase(alias);
      return Result::over_budget;
    }
    bytes_ = bytes_ - slot.size() + topic.size();
    slot.assign(topic);
    return Result::ok;
  }
  auto it = topics_.find(alias);
  // MQTT 5.0 3.3.2.3.4: an alias with no mapping yet is a Protocol Error.
  if (it == topics_.end()) return Result::unknown_alias;
  topic = it->second;
  return Result::ok;
}

OutboundTopicAliases::OutboundTopicAliases(std::uint16_t peer_maximum, std::uint16_t limit)
    : capacity_(std::min(peer_maximum, limit)) {}

OutboundTopicAliases::Choice OutboundTopicAliases::choose(std::string_view topic) {
  if (capacity_ == 0 || topic.empty()) return {};
  std::string key(topic);
  if (auto it = by_topic_.find(key); it != by_topic_.end()) {
    ++uses_[it->second - 1];
    return {it->second, false};
  }
  if (topics_.size() < capacity_) {
    auto alias = static_cast<std::uint16_t>(topics_.size() + 1);
    topics_.push_back(key);
    uses_.push_back(1);
    by_topic_.emplace(std::move(key), alias);
    return {alias, true};
  }
  // All aliases taken: count this topic, and let it take the least-used alias once it
  // has been sent more often than that alias's topic.
  if (candidates_.size() >= 4u * capacity_) candidates_.clear();
  std::uint64_t& count = candidates_[key];
  ++count;
  auto least = std::min_element(uses_.begin(), uses_.end());
  if (count <= *least) return {};
  auto alias = static_cast<std::uint16_t>(least - uses_.begin() + 1);
  by_topic_.erase(topics_[alias - 1]);
  topics_[alias - 1] = key;
  uses_[alias - 1] = count;
  candidates_.erase(key);
  by_topic_.emplace(std::move(key), alias);
  return {alias, true};
}

}  // namespace cicada::protocol
