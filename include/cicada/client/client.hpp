// Client: an asynchronous MQTT 3.1.1 / 5.0 client with a built-in connection manager.
//
//   cicada::client::ClientOptions options;
//   options.servers = {"mqtt://broker-a:1883", "mqtt://broker-b:1883"};
//   cicada::client::Client client(options);
//   client.on_connection_up([&](const ConnackInfo&) { client.subscribe("a/#",
//   QoS::at_least_once).get(); }); client.route("a/#", [](const ReceivedMessage& m) { ... });
//   client.start().get();
//   client.publish({.topic = "a/b", .payload = "hi", .qos = QoS::at_least_once}).get();
//
// Threads. A Client runs two threads of its own: the I/O thread, which owns the socket
// and all protocol state and never runs application code, and the callback thread,
// which runs every callback, message handler and completion handler (unless the
// handler's associated executor says otherwise, e.g. a coroutine's). A slow handler
// therefore never stalls keep-alive or acknowledgements.
//
// Thread-safety: every public member may be called from any thread, including from
// callbacks and handlers, except the destructor, which must not run on the callback
// thread. Blocking on a returned future from a callback is allowed: futures are
// fulfilled by the I/O thread.
//
// Connection manager. start() connects to the servers in turn; after a lost
// connection it reconnects (first retry at once, then exponential backoff with
// jitter). After each CONNACK: in-flight QoS 1/2 messages are re-sent with DUP when
// the session is resumed [MQTT-4.4.0-1] (re-sent as new when it is not);
// subscriptions are restored when the broker has no session; then on_connection_up
// runs to completion on the callback thread; only then do messages queued while
// disconnected go out. Inbound QoS 2 messages are delivered once [MQTT-4.3.3].
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <cicada/client/options.hpp>
#include <cicada/client/router.hpp>
#include <cicada/client/types.hpp>

namespace cicada::client {

class ClientImpl;

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();  // disconnect(), then joins both threads
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connection callbacks, run on the callback thread. Set them before start().
  // on_reconnecting's attempt counts from 1 since the last successful connection.
  void on_connection_up(std::function<void(const ConnackInfo&)> callback);
  void on_connection_down(std::function<void(const Error&)> callback);
  void on_reconnecting(std::function<void(std::uint32_t attempt, const std::string& uri)> callback);

  // With ClientOptions::store: a stored message file that could not be read (it is
  // skipped and renamed *.corrupt), a state change that could not be written, or a
  // message an earlier run stored that is dropped unsent (its Message Expiry Interval
  // ran out: "stored message <file> to '<topic>' dropped: expired: ..."). Run on the
  // callback thread; set it before start(), which reports what opening found.
  void on_store_error(std::function<void(const std::string&)> callback);

  // Inbound routing (see router.hpp); may be changed at any time.
  void route(std::string filter, MessageHandler handler);
  void unroute(std::string_view filter);
  void on_message(MessageHandler default_handler);

  // Starts connecting. The future is fulfilled after the first CONNACK and its
  // on_connection_up, or with the error that made the client give up
  // (retry_initial_connect = false), or `stopped`.
  std::future<ConnectResult> start();

  // QoS 0 fails with not_connected while disconnected; QoS 1/2 wait in the bounded
  // queue and complete when acknowledged (PUBACK / PUBCOMP).
  std::future<PublishResult> publish(Message message);
  std::future<SubscribeResult> subscribe(std::vector<SubscribeRequest> requests);
  std::future<SubscribeResult> subscribe(std::string filter, QoS qos = QoS::at_most_once);
  // MQTT 5: with a Subscription Identifier and/or User Properties, remembered with the
  // filters and sent again when subscriptions are restored. invalid_argument with MQTT
  // 3.1.1, for an identifier of 0 or above 268,435,455, or when the broker said it has
  // no Subscription Identifiers (reason 0xA1).
  std::future<SubscribeResult> subscribe(std::vector<SubscribeRequest> requests,
                                         SubscribeProperties properties);
  // Forgets the filters (they are not restored) and unsubscribes when connected.
  std::future<UnsubscribeResult> unsubscribe(std::vector<std::string> filters);
  std::future<UnsubscribeResult> unsubscribe(std::vector<std::string> filters,
                                             UnsubscribeProperties properties);

  // MQTT 5 re-authentication (MQTT 5.0 section 4.12.1) with ClientOptions::enhanced_auth:
  // AUTH 0x19 with its initial_data, then its challenge() for each AUTH 0x18 until the
  // broker's AUTH 0x00 (an empty Error). A broker that refuses disconnects: the error is
  // then the connection's (and the client reconnects as usual). invalid_argument without
  // enhanced_auth, with MQTT 3.1.1 or while one is under way; not_connected when
  // disconnected.
  std::future<Error> reauthenticate();

  // Completion-token forms: a callback, boost::asio::use_awaitable, use_future, ...
  // The handler runs on its associated executor, by default the callback thread.
  template <class Token>
  auto async_publish(Message message, Token&& token) {
    return boost::asio::async_initiate<Token, void(PublishResult)>(
        [this](auto handler, Message m) {
          publish_with(std::move(m), wrap<PublishResult>(std::move(handler)));
        },
        token, std::move(message));
  }
  template <class Token>
  auto async_subscribe(std::vector<SubscribeRequest> requests, Token&& token) {
    return boost::asio::async_initiate<Token, void(SubscribeResult)>(
        [this](auto handler, std::vector<SubscribeRequest> r) {
          subscribe_with(std::move(r), wrap<SubscribeResult>(std::move(handler)));
        },
        token, std::move(requests));
  }
  template <class Token>
  auto async_subscribe(std::vector<SubscribeRequest> requests, SubscribeProperties properties,
                       Token&& token) {
    return boost::asio::async_initiate<Token, void(SubscribeResult)>(
        [this](auto handler, std::vector<SubscribeRequest> r, SubscribeProperties p) {
          subscribe_with(std::move(r), wrap<SubscribeResult>(std::move(handler)), std::move(p));
        },
        token, std::move(requests), std::move(properties));
  }
  template <class Token>
  auto async_unsubscribe(std::vector<std::string> filters, Token&& token) {
    return boost::asio::async_initiate<Token, void(UnsubscribeResult)>(
        [this](auto handler, std::vector<std::string> f) {
          unsubscribe_with(std::move(f), wrap<UnsubscribeResult>(std::move(handler)));
        },
        token, std::move(filters));
  }
  template <class Token>
  auto async_unsubscribe(std::vector<std::string> filters, UnsubscribeProperties properties,
                         Token&& token) {
    return boost::asio::async_initiate<Token, void(UnsubscribeResult)>(
        [this](auto handler, std::vector<std::string> f, UnsubscribeProperties p) {
          unsubscribe_with(std::move(f), wrap<UnsubscribeResult>(std::move(handler)), std::move(p));
        },
        token, std::move(filters), std::move(properties));
  }

  // Sends DISCONNECT (reason `reason`; 0x04 asks the broker to publish the Will),
  // closes the connection, stops reconnecting and fails whatever is still queued with
  // `stopped`. The future is fulfilled when the socket is closed.
  std::future<void> disconnect(ReasonCode reason = ReasonCode::success);
  // The same with DISCONNECT properties (MQTT 5; ignored with 3.1.1).
  std::future<void> disconnect(ReasonCode reason, DisconnectProperties properties);

  // With ClientOptions::manual_ack: acknowledges a received QoS 1/2 message (PUBACK,
  // or PUBREC for QoS 2). A QoS 1 message acknowledged after its connection was lost
  // is not acknowledged (the broker sends it again); a QoS 2 one is, on the new
  // connection, and is not delivered twice. No effect for QoS 0.
  void ack(const ReceivedMessage& message);

  // Fulfilled once no QoS 1/2 message is queued or in flight (including those the
  // file store brought back), or when the client stops. For "send everything, then
  // disconnect".
  std::future<void> drain();

  bool connected() const noexcept;
  // The callback thread's executor.
  boost::asio::any_io_executor callback_executor() const;

 private:
  template <class R>
  using Completion = std::function<void(R)>;

  // Type-erases an Asio handler (which may be move-only) and posts its invocation to
  // its associated executor, so the I/O thread never runs it.
  template <class R, class Handler>
  Completion<R> wrap(Handler handler) {
    auto executor = boost::asio::get_associated_executor(handler, callback_executor());
    auto shared = std::make_shared<Handler>(std::move(handler));
    return [shared, executor](R result) {
      boost::asio::post(executor,
                        [shared, r = std::move(result)]() mutable { (*shared)(std::move(r)); });
    };
  }

  void publish_with(Message message, Completion<PublishResult> done);
  void subscribe_with(std::vector<SubscribeRequest> requests, Completion<SubscribeResult> done,
                      SubscribeProperties properties = {});
  void unsubscribe_with(std::vector<std::string> filters, Completion<UnsubscribeResult> done,
                        UnsubscribeProperties properties = {});

  std::shared_ptr<ClientImpl> impl_;
};

}  // namespace cicada::client
