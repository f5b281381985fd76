// Retained messages for a new subscription (MQTT 5.0 3.3.1.3, [MQTT-3.3.1-9]), each
// authorized as a read of its own topic when the subscription's filter has wildcards:
// the filter was granted, but a retained message under it may still be one the client
// must not read (issue 5: "retained-message delivery is checked too"; Mosquitto checks
// read access for every retained message it sends). Answers that come later (an HTTP
// authorizer) let messages published meanwhile arrive first: retained messages then
// come after them, and one that was replaced meanwhile is not sent at all.
#include "connection.hpp"
#include "worker.hpp"

namespace cicada::broker {

void Connection::deliver_retained(std::vector<RetainedMessage> messages, std::uint32_t identifier) {
  std::size_t unknown = 0;
  for (const RetainedMessage& m : messages)
    if (!m.allowed) ++unknown;
  if (unknown == 0) return send_retained(messages, identifier);

  struct Pending {
    std::vector<RetainedMessage> messages;
    std::size_t unanswered;
    std::uint32_t identifier;
  };
  auto pending = std::make_shared<Pending>(Pending{std::move(messages), unknown, identifier});
  // This client's later packets wait, as for the SUBSCRIBE itself: an UNSUBSCRIBE right
  // behind must not be overtaken by the messages of the filter it removes.
  read_paused_ = true;
  std::weak_ptr<Connection> weak = weak_from_this();
  Worker* worker = &worker_;
  for (std::size_t i = 0; i < pending->messages.size(); ++i) {
    const RetainedMessage& m = pending->messages[i];
    if (m.allowed) continue;
    // The answers are counted on the worker, after this loop: every question is asked
    // before the first answer is counted, even one given inline.
    worker_.auth().authorize(
        access_request(std::string(m.message->topic), Action::subscribe, m.qos, true),
        [weak, worker, pending, i](bool allowed) {
          worker->post([weak, pending, i, allowed](Worker&) {
            pending->messages[i].allowed = allowed;
            if (--pending->unanswered > 0) return;
            auto self = weak.lock();
            if (!self || self->closed() || self->session_ == nullptr) return;
            // The subscription has been live meanwhile: a message that replaced or
            // cleared one of these retained messages went out to this client already,
            // and the older one must not follow it.
            for (RetainedMessage& r : pending->messages) {
              if (!r.allowed) continue;
              auto current = self->worker_.router().retained_for(r.message->topic, 1);
              r.allowed = !current.empty() && current.front() == r.message;
            }
            self->send_retained(pending->messages, pending->identifier);
            self->resume_reading();
          });
        });
  }
}

void Connection::send_retained(const std::vector<RetainedMessage>& messages,
                               std::uint32_t identifier) {
  const TimePoint now = worker_.now();
  for (const RetainedMessage& m : messages) {
    if (!m.allowed) continue;
    DeliveryOptions options{.qos = std::min(m.message->qos, m.qos), .retain = true};
    if (identifier != 0) options.subscription_ids.push_back(identifier);
    session_->deliver(m.message, std::move(options), now);
  }
}

}  // namespace cicada::broker
