#include <cicada/client/router.hpp>
#include <cicada/topic/topic.hpp>

namespace cicada::client {

void MessageRouter::add(std::string filter, MessageHandler handler) {
  std::string inner = filter;
  if (auto shared = topic::parse_shared(filter)) inner = std::string(shared->filter);
  auto shared_handler = std::make_shared<MessageHandler>(std::move(handler));
  std::lock_guard lock(mutex_);
  routes_.push_back({std::move(inner), std::move(filter), std::move(shared_handler)});
}

std::size_t MessageRouter::remove(std::string_view filter) {
  std::lock_guard lock(mutex_);
  return std::erase_if(routes_, [&](const Route& r) { return r.original == filter; });
}

void MessageRouter::set_default(MessageHandler handler) {
  auto shared_handler = std::make_shared<MessageHandler>(std::move(handler));
  std::lock_guard lock(mutex_);
  default_handler_ = std::move(shared_handler);
}

std::size_t MessageRouter::dispatch(const ReceivedMessage& message) const {
  std::vector<std::shared_ptr<MessageHandler>> matched;
  {
    std::lock_guard lock(mutex_);
    for (const auto& route : routes_)
      if (topic::matches(route.filter, message.topic)) matched.push_back(route.handler);
    if (matched.empty() && default_handler_) matched.push_back(default_handler_);
  }
  for (const auto& handler : matched)
    if (*handler) (*handler)(message);
  return matched.size();
}

}  // namespace cicada::client
