// ClientImpl: the state behind a Client. All protocol state is owned by the I/O
// thread (io_); public calls reach it by posting there. Application code runs only
// on the callback thread (callbacks_).
// Handlers capture `this`: shutdown() joins both threads before the object dies, and
// the io_context's destructor then frees whatever handlers never ran.
// Thread-safety: members marked "any thread" may be called from anywhere; everything
// else runs on the I/O thread only.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <cicada/client/options.hpp>
#include <cicada/client/router.hpp>
#include <cicada/client/types.hpp>
#include <cicada/client/uri.hpp>
#include <cicada/codec/parser.hpp>
#include <cicada/protocol/topic_aliases.hpp>

#include "file_store.hpp"
#include "transport.hpp"

namespace cicada::client {

namespace asio = boost::asio;

// One connection to one server, over any transport; replaced on every reconnect.
struct Connection {
  Connection(asio::io_context& io, std::unique_ptr<TransportStream> stream)
      : transport(std::move(stream)), keep_alive_timer(io), closed(io) {
    closed.expires_at(asio::steady_timer::time_point::max());
  }
  std::unique_ptr<TransportStream> transport;
  codec::Parser parser;
  std::string out;  // encoded packets waiting for the next flush
  bool flush_scheduled = false;
  bool writing = false;
  bool close_after_flush = false;
  bool open = true;
  bool ping_outstanding = false;
  asio::steady_timer keep_alive_timer;
  asio::steady_timer closed;                              // cancelled when the connection ends
  Error error;                                            // why it ended
  std::optional<protocol::OutboundTopicAliases> aliases;  // MQTT 5, when the broker allows
  protocol::InboundTopicAliases inbound_aliases;          // the broker's, within our maximum
  std::uint64_t serial = 0;                               // ReceivedMessage::connection
  // manual_ack: inbound QoS 1/2 in arrival order; acks leave from the front only.
  struct InboundAck {
    std::uint16_t packet_id;
    QoS qos;
    bool acked;
  };
  std::deque<InboundAck> pending_acks;
  std::vector<std::shared_ptr<std::promise<void>>> closed_promises;  // disconnect() waiters
  // Client::reauthenticate() under way: completed by the broker's AUTH 0x00, or with the
  // error that ends the connection.
  std::function<void(Error)> reauthenticating;
};

Error check_message(const Message& message);  // topic and QoS, any thread

class ClientImpl {
 public:
  explicit ClientImpl(ClientOptions options);
  ~ClientImpl();

  // Any thread.
  void start_threads();
  void shutdown();  // graceful disconnect, then joins the threads
  std::future<ConnectResult> start();
  void publish(Message message, std::function<void(PublishResult)> done);
  void subscribe(std::vector<SubscribeRequest> requests, std::function<void(SubscribeResult)> done,
                 SubscribeProperties properties = {});
  void unsubscribe(std::vector<std::string> filters, std::function<void(UnsubscribeResult)> done,
                   UnsubscribeProperties properties = {});
  void ack(std::uint16_t packet_id, QoS qos, std::uint64_t connection);
  std::future<void> disconnect(ReasonCode reason, DisconnectProperties properties);
  std::future<void> drain();
  void reauthenticate(std::function<void(Error)> done);
  bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
  asio::any_io_executor callback_executor() { return callbacks_.get_executor(); }

  // Set before start(); read on the callback thread afterwards.
  std::function<void(const ConnackInfo&)> on_up;
  std::function<void(const Error&)> on_down;
  std::function<void(std::uint32_t, const std::string&)> on_reconnecting;
  std::function<void(const std::string&)> on_store_error;
  MessageRouter router;

 private:
  struct Outgoing {
    Message message;
    std::function<void(PublishResult)> done;
    std::uint16_t packet_id = 0;
    bool released = false;        // QoS 2: PUBREC received, PUBREL sent
    std::uint64_t store_key = 0;  // its file in store_, 0: not stored
    // When it was handed to the client (for one read back from the file store, that
    // time in the earlier process, see open_store()): its Message Expiry Interval
    // counts down from here.
    std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  };
  // The Message Expiry Interval left (MQTT 5.0 3.3.2.3.3): nullopt when the message does
  // not expire, 0 when it has.
  static std::optional<std::uint32_t> remaining_expiry(const Outgoing& out,
                                                       std::chrono::steady_clock::time_point now);
  struct PendingSubscribe {
    std::vector<SubscribeRequest> requests;
    std::function<void(SubscribeResult)> done;  // empty for restored subscriptions
    SubscribeProperties properties;
  };
  struct PendingUnsubscribe {
    std::vector<std::string> filters;
    std::function<void(UnsubscribeResult)> done;
    UnsubscribeProperties properties;
  };
  struct Remembered {
    SubscribeRequest request;
    SubscribeProperties properties;  // of the SUBSCRIBE that made it
  };

  // connection manager (manager.cpp)
  asio::awaitable<void> manage();
  asio::awaitable<Error> connect_once(std::shared_ptr<Connection> conn, const ServerUri& uri,
                                      const std::string& text, ConnackInfo& connack);
  void begin_session(const std::shared_ptr<Connection>& conn, const ConnackInfo& connack);
  void end_session(const std::shared_ptr<Connection>& conn);
  void connection_ready();
  void finish_start(ConnectResult result);
  void do_stop(ReasonCode reason, std::shared_ptr<std::promise<void>> closed,
               DisconnectProperties properties = {});
  void fail_everything(ErrorKind kind, std::string_view why);

  // the wire (session.cpp)
  void send(const codec::Packet& packet);
  void schedule_flush(const std::shared_ptr<Connection>& conn);
  void flush(const std::shared_ptr<Connection>& conn);
  void read_loop(const std::shared_ptr<Connection>& conn);
  void keep_alive(const std::shared_ptr<Connection>& conn);
  void close(const std::shared_ptr<Connection>& conn, Error error);
  void handle(const std::shared_ptr<Connection>& conn, codec::ParsedPacket parsed);
  // Enhanced authentication (enhanced_auth.cpp): our answer to a challenge, the AUTH
  // packet carrying it, and a broker's AUTH during a re-authentication.
  Expected<std::string, std::string> answer_challenge(const codec::Auth& auth);
  codec::Auth auth_packet(ReasonCode reason, const std::string& data) const;
  void on_auth(const std::shared_ptr<Connection>& conn, const codec::Auth& auth);
  void on_publish(const codec::Publish& publish, const SharedBuffer& owner);
  void protocol_violation(ReasonCode reason, std::string why);
  void deliver(ReceivedMessage message);
  void send_publish(Outgoing& out, bool dup);
  void pump_queue();
  void send_ready_acks();
  Error check_publish(const Message& message) const;
  void send_subscribe(PendingSubscribe pending);
  void send_unsubscribe(PendingUnsubscribe pending);
  std::uint16_t allocate_packet_id();
  void complete(std::list<Outgoing>::iterator it, PublishResult result);
  void drop_queued(Outgoing& out, Error error);
  static Error expired_error(const Outgoing& out);
  // the file store (store.cpp)
  void open_store();
  void assign_packet_id(Outgoing& out);
  void store_released(Outgoing& out);
  void forget_stored(Outgoing& out);
  void store_problem(std::string text);
  void check_drained();

  ClientOptions options_;
  std::vector<std::pair<ServerUri, std::string>> servers_;  // parsed, original text
  std::string parse_error_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // when a server is mqtts:// or wss://
  std::unique_ptr<FileStore> store_;                 // ClientOptions::store; add() any thread
  std::vector<std::string> store_problems_;          // found on open, reported by start()

  asio::io_context io_{1};
  asio::io_context callbacks_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> io_work_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> callback_work_;
  std::thread io_thread_;
  std::thread callback_thread_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> shut_down_{false};

  // I/O thread only from here on.
  std::shared_ptr<Connection> conn_;
  std::shared_ptr<Connection> connecting_;  // closed by do_stop to abort a connect
  bool ready_ = false;                      // on_connection_up has completed for conn_
  bool stopping_ = false;
  ProtocolVersion version_;
  ConnackInfo connack_;
  std::chrono::seconds keep_alive_{0};
  std::chrono::steady_clock::time_point up_since_;
  std::optional<std::promise<ConnectResult>> start_promise_;
  asio::steady_timer backoff_timer_{io_};
  std::mt19937_64 rng_{std::random_device{}()};
  std::optional<std::promise<void>> manager_done_;

  std::uint16_t next_packet_id_ = 1;
  std::set<std::uint16_t> ids_in_use_;
  std::list<Outgoing> inflight_;  // sent, not yet completed, in send order
  std::deque<Outgoing> queue_;    // waiting for a connection or for Receive Maximum
  std::map<std::uint16_t, PendingSubscribe> subscribes_;
  std::map<std::uint16_t, PendingUnsubscribe> unsubscribes_;
  std::map<std::string, Remembered> subscriptions_;  // for restore, by filter
  // Asked for while disconnected; sent right after the next CONNACK.
  std::deque<PendingSubscribe> deferred_subscribes_;
  std::deque<PendingUnsubscribe> deferred_unsubscribes_;
  // Inbound QoS 2 ids delivered and not yet released by PUBREL. Without manual_ack
  // they are always `acked`; with it, `resent` means the broker re-sent the PUBLISH
  // on the current connection and waits for the PUBREC the application's ack sends.
  enum class Qos2State : std::uint8_t { unacked, resent, acked };
  std::map<std::uint16_t, Qos2State> inbound_qos2_;
  std::uint64_t connection_serial_ = 0;
  std::vector<std::promise<void>> drain_waiters_;  // drain(): nothing queued or in flight
};

}  // namespace cicada::client
