#include "message.hpp"

#include <cstring>
#include <vector>

namespace cicada::broker {
namespace {

// Appends `text` to `buffer` at `offset` and returns the view of the copy.
std::string_view copy_into(SharedBuffer& buffer, std::size_t& offset, std::string_view text) {
  if (text.empty()) return {};
  std::memcpy(buffer.data() + offset, text.data(), text.size());
  std::string_view out = buffer.view(offset, text.size());
  offset += text.size();
  return out;
}

std::size_t optional_size(const std::optional<std::string_view>& text) {
  return text ? text->size() : 0;
}

}  // namespace

MessagePtr compact(const Message& message) {
  const codec::Properties& p = message.properties;
  std::size_t size = message.topic.size() + message.payload.size() + optional_size(p.content_type) +
                     optional_size(p.response_topic) + optional_size(p.correlation_data);
  for (const auto& user : p.user_properties)
    size += user.name.size() + user.value.size();

  auto copy = std::make_shared<Message>();
  copy->owner = SharedBuffer::allocate(size);
  std::size_t offset = 0;
  copy->topic = copy_into(copy->owner, offset, message.topic);
  copy->payload = copy_into(copy->owner, offset, message.payload);
  copy->qos = message.qos;
  copy->retain = message.retain;
  copy->expires_at = message.expires_at;
  copy->publisher = message.publisher;
  codec::Properties& q = copy->properties;
  q.payload_format_indicator = p.payload_format_indicator;
  q.message_expiry_interval = p.message_expiry_interval;
  if (p.content_type) q.content_type = copy_into(copy->owner, offset, *p.content_type);
  if (p.response_topic) q.response_topic = copy_into(copy->owner, offset, *p.response_topic);
  if (p.correlation_data) q.correlation_data = copy_into(copy->owner, offset, *p.correlation_data);
  q.user_properties.reserve(p.user_properties.size());
  for (const auto& user : p.user_properties) {
    std::string_view name = copy_into(copy->owner, offset, user.name);
    std::string_view value = copy_into(copy->owner, offset, user.value);
    q.user_properties.push_back({name, value});
  }
  return copy;
}

std::optional<std::uint32_t> remaining_expiry(const Message& message, TimePoint now) {
  if (!message.expires_at) return std::nullopt;
  if (*message.expires_at <= now) return 0;
  auto left = std::chrono::ceil<std::chrono::seconds>(*message.expires_at - now).count();
  return static_cast<std::uint32_t>(left);
}

}  // namespace cicada::broker
