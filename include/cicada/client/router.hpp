// MessageRouter: inbound messages to handlers by topic filter. Every route whose
// filter matches the topic gets the message, in the order routes were added; when none
// matches, the default handler does. For "$share/group/f" the inner filter f is used.
// Thread-safety: every member may be called from any thread. Routes live inside one
// mutex; dispatch copies the matching handlers out and calls them with no lock held
// (STYLE.md 4), so a handler may add or remove routes.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/client/types.hpp>

namespace cicada::client {

using MessageHandler = std::function<void(const ReceivedMessage&)>;

class MessageRouter {
 public:
  void add(std::string filter, MessageHandler handler);
  // Removes every route with exactly this filter; returns how many were removed.
  std::size_t remove(std::string_view filter);
  void set_default(MessageHandler handler);
  // Calls the matching handlers (or the default one); returns how many were called.
  std::size_t dispatch(const ReceivedMessage& message) const;

 private:
  struct Route {
    std::string filter;  // inner filter for $share
    std::string original;
    std::shared_ptr<MessageHandler> handler;
  };
  mutable std::mutex mutex_;
  std::vector<Route> routes_;                        // guarded by mutex_
  std::shared_ptr<MessageHandler> default_handler_;  // guarded by mutex_
};

}  // namespace cicada::client
