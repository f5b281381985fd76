// Session: the MQTT session state of one client (MQTT 5.0 section 4.1): its
// subscriptions, the QoS 1/2 messages in flight to it, the messages queued for it
// while it is offline or its window is full, and the QoS 2 packet ids it has sent
// us and not yet released. Sans-I/O: it sends through a SessionSink (the connection
// it is attached to) and takes the current time as an argument, so unit tests drive
// it with a fake clock.
// Thread-safety: owned by one worker at a time; moved between workers by message.
#pragma once

#include <atomic>
#include <boost/container/deque.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cicada/codec/packets.hpp>

#include "message.hpp"
#include "session_handle.hpp"

namespace cicada::broker {

// What a session needs from the connection it is attached to.
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  enum class SendResult {
    sent,
    discarded,   // not sent and not to be kept: above the client's Maximum Packet Size
                 // [MQTT-3.1.2-25], expired [MQTT-3.3.2-5], or QoS 0 to a slow consumer
    overloaded,  // the connection's output is over its bound; it is being closed
  };
  // Sends `publish` (header fields) carrying `message`'s bytes.
  virtual SendResult send_publish(const codec::Publish& publish, const MessagePtr& message) = 0;
  virtual void send_packet(const codec::Packet& packet) = 0;
};

struct SessionLimits {
  std::uint32_t max_mqueue_len = 1000;
  bool mqueue_store_qos0 = true;
  std::uint32_t max_awaiting_rel = 100;
};

// How one subscriber receives one message.
struct DeliveryOptions {
  codec::QoS qos = codec::QoS::at_most_once;
  bool retain = false;
  std::vector<std::uint32_t> subscription_ids;
  // Set for a delivery through a shared subscription: "$share/{group}/{filter}", so
  // the message can go to another member if this session ends before receiving it.
  std::shared_ptr<const std::string> shared_subscription;
};

struct StoredSubscription {
  codec::SubscribeOptions options;
  std::uint32_t identifier = 0;
};

// Drop and delivery counters of the sessions of one worker, each with a named reason
// (STYLE.md 7). Written only by that worker's thread (bump()), read by any.
struct SessionStats {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped_queue_full{0};
  std::atomic<std::uint64_t> dropped_qos0_offline{0};
  std::atomic<std::uint64_t> dropped_expired{0};
  // Too large for the client, or a slow consumer's QoS 0.
  std::atomic<std::uint64_t> dropped_by_connection{0};
  // No PUBREL within mqtt.await_rel_timeout.
  std::atomic<std::uint64_t> dropped_unreleased_qos2{0};

  // One writer: a plain load and store, no locked read-modify-write on the hot path.
  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

// What all the sessions of a worker share, kept once per worker instead of in every
// session (docs/performance.md, idle connections): the limits and the counters.
struct SessionEnv {
  SessionLimits limits;
  SessionStats stats;
};

class Session {
 public:
  // `env` outlives the session, or until move_to() gives it another.
  Session(SessionHandlePtr handle, SessionEnv& env);
  // The session now belongs to the worker whose environment is `env` (a takeover).
  void move_to(SessionEnv& env) noexcept { env_ = &env; }

  const SessionHandlePtr& handle() const noexcept { return handle_; }
  const std::string& client_id() const noexcept { return handle_->client_id; }

  // Binds the session to a connection. Messages in flight are sent again with DUP
  // set, in their original order [MQTT-4.4.0-1], then queued messages follow.
  void attach(SessionSink& sink, codec::ProtocolVersion version, std::uint16_t receive_maximum,
              TimePoint now);
  void detach(TimePoint now);
  bool online() const noexcept { return sink_ != nullptr; }
  SessionSink* sink() const noexcept { return sink_; }
  codec::ProtocolVersion version() const noexcept { return version_; }

  // Sends the message now, or queues it (offline, or the client's Receive Maximum is
  // reached [MQTT-3.3.4-9]).
  void deliver(const MessagePtr& message, DeliveryOptions options, TimePoint now);

  // Acknowledgements from the client. False when the packet id is not in flight.
  bool on_puback(std::uint16_t packet_id, TimePoint now);
  // A PUBREC with an error reason (>= 0x80) ends the exchange [MQTT-4.3.3].
  bool on_pubrec(std::uint16_t packet_id, bool failed, TimePoint now);
  bool on_pubcomp(std::uint16_t packet_id, TimePoint now);

  // Inbound QoS 2 [MQTT-4.3.3]: a PUBLISH id is remembered from PUBREC until PUBREL,
  // so a resent PUBLISH is not delivered twice.
  enum class Qos2Arrival { first, duplicate, too_many };
  Qos2Arrival receive_qos2(std::uint16_t packet_id, TimePoint now = {});
  // Forgets QoS 2 ids whose PUBREL has not come since before `cutoff`
  // (mqtt.await_rel_timeout), so a client that never releases cannot pin them.
  std::size_t drop_unreleased_before(TimePoint cutoff);
  std::size_t awaiting_release() const noexcept {
    return exchanges_ ? exchanges_->awaiting_rel.size() : 0;
  }
  bool awaiting_release(std::uint16_t packet_id) const {
    return exchanges_ && exchanges_->awaiting_rel.contains(packet_id);
  }
  bool release_qos2(std::uint16_t packet_id);

  using Subscriptions = std::map<std::string, StoredSubscription>;
  const Subscriptions& subscriptions() const noexcept;
  // Adds or replaces the subscription to `filter` [MQTT-3.8.4-3].
  void set_subscription(std::string_view filter, StoredSubscription subscription);
  void erase_subscription(std::string_view filter);

  // When an offline session ends, if it does.
  std::optional<TimePoint> expires_at() const noexcept {
    if (expires_at_ == never) return std::nullopt;
    return expires_at_;
  }

  std::size_t inflight_count() const noexcept {
    return exchanges_ ? exchanges_->inflight.size() : 0;
  }
  std::size_t queued_count() const noexcept { return exchanges_ ? exchanges_->queue.size() : 0; }
  // The counters of every session sharing this one's environment (its worker's).
  const SessionStats& stats() const noexcept { return env_->stats; }

  // The message exchanges (in flight, queued, QoS 2 awaiting release) live apart
  // from the session and only while there are any: most sessions are idle most of
  // the time. Called by the worker's once-a-second tick, never from inside a
  // delivery, so nothing that refers to them is ever left dangling.
  void release_idle_state();
  bool holds_exchange_state() const noexcept { return exchanges_ != nullptr; }

  // Everything still owed to the client, in order (in flight, then queued); used to
  // re-dispatch a shared-subscription member's messages when its session ends.
  std::vector<std::pair<MessagePtr, DeliveryOptions>> take_undelivered();

 private:
  struct Inflight {
    std::uint64_t sequence;
    MessagePtr message;
    DeliveryOptions options;
    bool released = false;  // QoS 2: PUBREC received, PUBREL sent, awaiting PUBCOMP
    // Sent (or resent) on the current connection. After a reconnect, entries wait
    // for the window before they are resent [MQTT-3.3.4-9], oldest first.
    bool sent = false;
  };
  struct Queued {
    MessagePtr message;
    DeliveryOptions options;
  };

  // `resend`: delivery already started, so expiry no longer stops it [MQTT-3.3.2-5].
  SessionSink::SendResult send_now(const MessagePtr& message, const DeliveryOptions& options,
                                   std::uint16_t packet_id, bool dup, bool resend, TimePoint now);
  // Fills the window: in-flight messages not yet resent on this connection first, in
  // their original order [MQTT-4.6.0-1], then the queue.
  void pump(TimePoint now);
  struct Exchanges {
    std::map<std::uint16_t, Inflight> inflight;
    std::size_t outstanding = 0;  // entries of inflight sent on the current connection
    std::uint64_t sequence = 0;   // orders inflight; restarts with a fresh Exchanges
    // boost's deque allocates nothing until used (std::deque takes ~600 bytes at
    // construction), and most sessions never queue.
    boost::container::deque<Queued> queue;
    std::size_t queued_qos0 = 0;  // entries of queue at QoS 0: a full queue of QoS 1/2
                                  // then drops without searching it
    std::map<std::uint16_t, TimePoint> awaiting_rel;  // id -> when the PUBLISH arrived
  };
  Exchanges& exchanges();  // created on first use
  std::size_t outstanding() const noexcept { return exchanges_ ? exchanges_->outstanding : 0; }

  // An exchange finished: frees its id and its place in the window.
  void complete(std::map<std::uint16_t, Inflight>::iterator it, TimePoint now);
  bool resend_waiting(TimePoint now);
  void enqueue(const MessagePtr& message, DeliveryOptions options);
  std::uint16_t next_packet_id();
  bool window_open() const noexcept { return outstanding() < receive_maximum_; }

  static constexpr TimePoint never = TimePoint::max();

  // Every byte here is paid once per session, connected or not (docs/performance.md,
  // idle connections): what most sessions never use is behind a pointer.
  SessionHandlePtr handle_;
  SessionSink* sink_ = nullptr;
  std::unique_ptr<Exchanges> exchanges_;
  std::unique_ptr<Subscriptions> subscriptions_;  // none: no subscription
  TimePoint expires_at_ = never;
  SessionEnv* env_;
  std::uint16_t receive_maximum_ = 65535;
  std::uint16_t last_packet_id_ = 0;  // kept across Exchanges: ids go on from it
  codec::ProtocolVersion version_ = codec::ProtocolVersion::v3_1_1;

 public:
  // Session Expiry Interval in seconds; 0xFFFFFFFF never expires [MQTT-3.1.2-23].
  // (Declared last, so that it shares a word with the small members above.)
  std::uint32_t expiry_interval = 0;
};

}  // namespace cicada::broker
