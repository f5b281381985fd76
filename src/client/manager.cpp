// The connection manager: threads, the connect / reconnect loop, session start and
// end, and stopping. Runs on the I/O thread except where a function says otherwise.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cicada/codec/encode.hpp>
#include <cicada/topic/topic.hpp>

#include "client_impl.hpp"

namespace cicada::client {

namespace {

codec::Properties message_properties(const MessageProperties& in,
                                     std::vector<codec::UserProperty>& users) {
  codec::Properties out;
  out.payload_format_indicator = in.payload_format_indicator;
  out.message_expiry_interval = in.message_expiry_interval;
  if (in.content_type) out.content_type = *in.content_type;
  if (in.response_topic) out.response_topic = *in.response_topic;
  if (in.correlation_data) out.correlation_data = *in.correlation_data;
  for (const auto& [name, value] : in.user_properties)
    users.push_back({name, value});
  out.user_properties = users;
  return out;
}

ConnackInfo connack_info(const codec::Connack& connack, ProtocolVersion version,
                         const std::string& uri) {
  ConnackInfo info;
  info.uri = uri;
  info.version = version;
  info.session_present = connack.session_present;
  info.reason = connack.reason_code;
  const auto& p = connack.properties;
  if (p.assigned_client_identifier)
    info.assigned_client_id = std::string(*p.assigned_client_identifier);
  if (p.reason_string) info.reason_string = std::string(*p.reason_string);
  if (p.receive_maximum) info.receive_maximum = *p.receive_maximum;
  if (p.maximum_packet_size) info.maximum_packet_size = *p.maximum_packet_size;
  if (p.maximum_qos) info.maximum_qos = static_cast<QoS>(*p.maximum_qos);
  if (p.retain_available) info.retain_available = *p.retain_available != 0;
  if (p.topic_alias_maximum) info.topic_alias_maximum = *p.topic_alias_maximum;
  if (p.subscription_identifier_available)
    info.subscription_identifiers_available = *p.subscription_identifier_available != 0;
  info.server_keep_alive = p.server_keep_alive;
  if (p.response_information) info.response_information = std::string(*p.response_information);
  if (p.server_reference) info.server_reference = std::string(*p.server_reference);
  if (p.authentication_data) info.authentication_data = std::string(*p.authentication_data);
  return info;
}

}  // namespace

ClientImpl::ClientImpl(ClientOptions options) : options_(std::move(options)) {
  version_ = options_.version;
  for (const auto& text : options_.servers) {
    auto parsed = parse_server_uri(text);
    if (!parsed) {
      parse_error_ = parsed.error();
      break;
    }
    servers_.emplace_back(*parsed, text);
  }
  if (servers_.empty() && parse_error_.empty()) parse_error_ = "no server URI given";
  const bool tls = std::any_of(servers_.begin(), servers_.end(), [](const auto& server) {
    return server.first.transport == Transport::tls ||
           server.first.transport == Transport::websocket_tls;
  });
  if (tls && parse_error_.empty()) {
    auto context = make_tls_context(options_.tls);
    if (context)
      tls_context_ = std::move(*context);
    else
      parse_error_ = "TLS: " + context.error();
  }
  if (parse_error_.empty()) open_store();
}

ClientImpl::~ClientImpl() {
  shutdown();
}

void ClientImpl::start_threads() {
  io_work_.emplace(io_.get_executor());
  callback_work_.emplace(callbacks_.get_executor());
  io_thread_ = std::thread([this] { io_.run(); });
  callback_thread_ = std::thread([this] { callbacks_.run(); });
}

std::future<ConnectResult> ClientImpl::start() {
  std::promise<ConnectResult> promise;
  auto future = promise.get_future();
  if (started_.exchange(true) || shut_down_) {
    promise.set_value({Error{ErrorKind::invalid_argument, ReasonCode::success,
                             "start() called twice or after disconnect()"},
                       {}});
    return future;
  }
  if (!parse_error_.empty()) {
    promise.set_value({Error{ErrorKind::invalid_argument, ReasonCode::success, parse_error_}, {}});
    started_ = false;
    return future;
  }
  for (auto& problem : store_problems_)
    store_problem(std::move(problem));
  store_problems_.clear();
  asio::post(io_, [this, p = std::move(promise)]() mutable {
    start_promise_.emplace(std::move(p));
    manager_done_.emplace();
    asio::co_spawn(io_, manage(), asio::detached);
  });
  return future;
}

void ClientImpl::finish_start(ConnectResult result) {
  if (!start_promise_) return;
  start_promise_->set_value(std::move(result));
  start_promise_.reset();
}

asio::awaitable<void> ClientImpl::manage() {
  using asio::redirect_error;
  using asio::use_awaitable;
  std::uint32_t failed_rounds = 0;
  std::uint32_t attempt = 0;  // connection attempts since the last one that succeeded
  bool first_try = true;
  std::size_t index = 0;
  bool ever_connected = false;
  while (!stopping_) {
    bool lost = false;
    bool lost_quickly = false;
    Error last;
    for (std::size_t i = 0; i < servers_.size() && !stopping_; ++i) {
      const std::size_t at = (index + i) % servers_.size();
      const auto& [uri, text] = servers_[at];
      if (!first_try && on_reconnecting)
        asio::post(callbacks_, [this, n = ++attempt, text] { on_reconnecting(n, text); });
      first_try = false;
      auto conn =
          std::make_shared<Connection>(io_, make_transport(io_, uri, options_.tls, tls_context_));
      ConnackInfo info;
      connecting_ = conn;
      Error error = co_await connect_once(conn, uri, text, info);
      connecting_.reset();
      if (stopping_) {
        conn->transport->close();
        break;
      }
      if (error) {
        last = std::move(error);
        continue;
      }
      index = at;
      failed_rounds = 0;
      attempt = 0;
      ever_connected = true;
      begin_session(conn, info);
      boost::system::error_code ec;
      co_await conn->closed.async_wait(redirect_error(use_awaitable, ec));
      lost_quickly = std::chrono::steady_clock::now() - up_since_ < options_.backoff.min_delay;
      end_session(conn);
      lost = true;
      break;
    }
    if (stopping_) break;
    if (lost && !options_.auto_reconnect) {
      stopping_ = true;
      break;
    }
    if (lost && !lost_quickly) continue;  // the first retry after a loss is immediate
    if (!lost && !ever_connected && !options_.retry_initial_connect) {
      finish_start({last, {}});
      stopping_ = true;
      break;
    }
    // A connection the broker drops at once (a refused session, a takeover) waits like
    // a failed attempt, so two clients sharing a client id do not spin.
    ++failed_rounds;
    backoff_timer_.expires_after(backoff_delay(options_.backoff, failed_rounds, rng_));
    boost::system::error_code ec;
    co_await backoff_timer_.async_wait(redirect_error(use_awaitable, ec));
  }
  connected_ = false;
  finish_start({Error{ErrorKind::stopped, ReasonCode::success, "client stopped"}, {}});
  fail_everything(ErrorKind::stopped, "client stopped");
  if (manager_done_) manager_done_->set_value();
}

asio::awaitable<Error> ClientImpl::connect_once(std::shared_ptr<Connection> conn,
                                                const ServerUri& uri, const std::string& text,
                                                ConnackInfo& connack) {
  using asio::redirect_error;
  using asio::use_awaitable;
  auto fail = [&](std::string why, ReasonCode reason = ReasonCode::success) {
    return Error{ErrorKind::connect_failed, reason, text + ": " + why};
  };
  // One deadline for resolve, connect, handshakes and CONNACK: on expiry it closes the
  // socket, which fails whichever operation is pending.
  auto timed_out = std::make_shared<bool>(false);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io_);
  asio::steady_timer deadline(io_);
  deadline.expires_after(options_.connect_timeout);
  deadline.async_wait([conn, timed_out, resolver](boost::system::error_code ec) {
    if (ec) return;
    *timed_out = true;
    resolver->cancel();
    conn->transport->close();
  });
  auto io_failure = [&](std::string_view what, const boost::system::error_code& ec) {
    return fail(*timed_out ? "connect timed out" : std::string(what) + ": " + ec.message());
  };

  boost::system::error_code ec;
  auto endpoints = co_await resolver->async_resolve(uri.host, std::to_string(uri.port),
                                                    redirect_error(use_awaitable, ec));
  if (ec) co_return io_failure("cannot resolve " + uri.host, ec);
  if (stopping_) co_return Error{ErrorKind::stopped, ReasonCode::success, "client stopped"};
  if (auto failed = co_await conn->transport->open(endpoints)) {
    if (*timed_out) co_return fail("connect timed out");
    Error error = fail(failed.why);
    if (failed.tls) error.kind = ErrorKind::tls_failed;
    co_return error;
  }

  codec::Connect connect;
  connect.version = version_;
  connect.clean_start = options_.clean_start;
  connect.keep_alive =
      static_cast<std::uint16_t>(std::min<std::int64_t>(options_.keep_alive.count(), 65535));
  connect.client_id = options_.client_id;
  if (options_.username) connect.username = *options_.username;
  if (options_.password) connect.password = *options_.password;
  std::vector<codec::UserProperty> will_users;
  std::vector<codec::UserProperty> users;
  if (options_.will) {
    codec::Will will;
    will.topic = options_.will->topic;
    will.payload = options_.will->payload;
    will.qos = options_.will->qos;
    will.retain = options_.will->retain;
    will.properties = message_properties(options_.will->properties, will_users);
    will.properties.will_delay_interval = options_.will->delay_interval;
    connect.will = will;
  }
  if (version_ == ProtocolVersion::v5) {
    connect.properties.session_expiry_interval = options_.session_expiry_interval;
    if (options_.receive_maximum != 65535)
      connect.properties.receive_maximum = options_.receive_maximum;
    connect.properties.maximum_packet_size = options_.maximum_packet_size;
    if (options_.topic_alias_maximum > 0)
      connect.properties.topic_alias_maximum = options_.topic_alias_maximum;
    for (const auto& [name, value] : options_.connect_user_properties)
      users.push_back({name, value});
    connect.properties.user_properties = users;
    if (!options_.request_problem_information) connect.properties.request_problem_information = 0;
    if (options_.request_response_information) connect.properties.request_response_information = 1;
  }
  std::string auth_data;  // viewed by `connect` until it is encoded
  if (version_ == ProtocolVersion::v5 && options_.enhanced_auth) {
    connect.properties.authentication_method = options_.enhanced_auth->method;
    if (options_.enhanced_auth->initial_data) auth_data = options_.enhanced_auth->initial_data();
    if (!auth_data.empty()) connect.properties.authentication_data = auth_data;
  }
  const std::string bytes = codec::encode_to_string(connect, version_);
  co_await conn->transport->async_write(asio::buffer(bytes), redirect_error(use_awaitable, ec));
  if (ec) co_return io_failure("cannot send CONNECT", ec);

  conn->parser = codec::Parser(
      {.max_packet_size = options_.maximum_packet_size, .buffer_size = 4096, .version = version_});
  for (;;) {
    auto next = conn->parser.next();
    if (!next)
      co_return fail("bad CONNACK: " + std::string(next.error().detail), next.error().code);
    if (*next) {
      if (auto* auth = std::get_if<codec::Auth>(&(*next)->packet)) {
        // Enhanced authentication before the CONNACK (MQTT 5.0 section 4.12).
        auto answer = answer_challenge(*auth);
        if (!answer) co_return fail(answer.error(), ReasonCode::protocol_error);
        const std::string reply = codec::encode_to_string(
            auth_packet(ReasonCode::continue_authentication, *answer), version_);
        co_await conn->transport->async_write(asio::buffer(reply),
                                              redirect_error(use_awaitable, ec));
        if (ec) co_return io_failure("cannot send AUTH", ec);
        continue;
      }
      auto* ack = std::get_if<codec::Connack>(&(*next)->packet);
      if (!ack) co_return fail("the server sent something other than CONNACK first");
      connack = connack_info(*ack, version_, text);
      const auto& method = ack->properties.authentication_method;
      if (!codec::is_error(ack->reason_code) && method &&
          (!options_.enhanced_auth || *method != options_.enhanced_auth->method)) {
        // [MQTT-4.12.0-5] [MQTT-4.12.0-6] a successful CONNACK names the CONNECT's method, or
        // none when the CONNECT had none.
        co_return fail("the CONNACK names authentication method '" + std::string(*method) +
                           "', not the one asked for",
                       ReasonCode::protocol_error);
      }
      break;
    }
    auto space = conn->parser.prepare(4096);
    std::size_t n = co_await conn->transport->async_read_some(
        asio::buffer(space.data(), space.size()), redirect_error(use_awaitable, ec));
    if (ec) co_return io_failure("no CONNACK", ec);
    conn->parser.commit(n);
  }
  deadline.cancel();
  if (codec::is_error(connack.reason)) {
    std::string why = "connection refused: " + std::string(codec::to_string(connack.reason));
    if (!connack.reason_string.empty()) why += ": " + connack.reason_string;
    co_return fail(why, connack.reason);
  }
  co_return Error{};
}

void ClientImpl::begin_session(const std::shared_ptr<Connection>& conn,
                               const ConnackInfo& connack) {
  conn_ = conn;
  conn->serial = ++connection_serial_;
  for (auto& [id, state] : inbound_qos2_)
    if (state == Qos2State::resent) state = Qos2State::unacked;  // re-sent on an old connection
  connack_ = connack;
  connected_ = true;
  ready_ = false;
  up_since_ = std::chrono::steady_clock::now();
  // The broker may shorten or lengthen our keep-alive (MQTT 5.0 section 3.2.2.3.14).
  if (version_ == ProtocolVersion::v5 && options_.topic_aliases && connack.topic_alias_maximum > 0)
    conn->aliases.emplace(connack.topic_alias_maximum);
  // A fresh table per connection: mappings never carry over [MQTT-3.3.2-7].
  if (version_ == ProtocolVersion::v5)
    conn->inbound_aliases.set_maximum(options_.topic_alias_maximum);
  keep_alive_ = connack.server_keep_alive ? std::chrono::seconds(*connack.server_keep_alive)
                                          : options_.keep_alive;
  if (!connack.session_present) {
    // The broker kept nothing: QoS 2 ids it has not released are forgotten on both
    // sides, and a QoS 2 message it already acknowledged with PUBREC is complete (it
    // was accepted). Other in-flight messages go out again as new messages, so one
    // whose Message Expiry Interval ran out meanwhile (while disconnected, or in the
    // file store across a restart) is dropped as a queued one is [MQTT-3.3.2-5].
    inbound_qos2_.clear();
    const auto now = std::chrono::steady_clock::now();
    for (auto it = inflight_.begin(); it != inflight_.end();) {
      auto current = it++;
      if (current->released) {
        auto done = std::move(current->done);
        forget_stored(*current);
        ids_in_use_.erase(current->packet_id);
        inflight_.erase(current);
        if (done) done({Error{}, ReasonCode::success});
      } else if (remaining_expiry(*current, now) == 0u) {
        ids_in_use_.erase(current->packet_id);
        Outgoing out = std::move(*current);
        inflight_.erase(current);
        drop_queued(out, expired_error(out));
      }
    }
  }
  // [MQTT-4.4.0-1] a resumed session re-sends unacknowledged PUBLISH (DUP set) and
  // PUBREL packets, in their original order.
  for (auto& out : inflight_) {
    if (out.released)
      send(codec::Pubrel{.packet_id = out.packet_id});
    else
      send_publish(out, connack.session_present);
  }
  if (!connack.session_present && options_.restore_subscriptions && !subscriptions_.empty()) {
    // One SUBSCRIBE per distinct set of properties: a Subscription Identifier belongs
    // to the packet, so filters subscribed with different ones go out apart.
    std::vector<PendingSubscribe> groups;
    for (const auto& [filter, remembered] : subscriptions_) {
      auto group = std::find_if(groups.begin(), groups.end(), [&](const PendingSubscribe& g) {
        return g.properties == remembered.properties;
      });
      if (group == groups.end()) {
        groups.push_back({{}, {}, remembered.properties});
        group = std::prev(groups.end());
      }
      group->requests.push_back(remembered.request);
    }
    for (auto& group : groups)
      send_subscribe(std::move(group));
  }
  for (auto& pending : deferred_subscribes_)
    send_subscribe(std::move(pending));
  deferred_subscribes_.clear();
  for (auto& pending : deferred_unsubscribes_)
    send_unsubscribe(std::move(pending));
  deferred_unsubscribes_.clear();
  read_loop(conn);
  keep_alive(conn);
  // on_connection_up runs off the I/O thread, so it may block on subscribe().get();
  // the offline queue is released only after it returns.
  asio::post(callbacks_, [this, conn, connack] {
    if (on_up) on_up(connack);
    asio::post(io_, [this, conn] {
      if (conn == conn_ && conn->open) connection_ready();
    });
  });
}

void ClientImpl::connection_ready() {
  ready_ = true;
  finish_start({Error{}, connack_});
  pump_queue();
}

void ClientImpl::end_session(const std::shared_ptr<Connection>& conn) {
  if (conn_ == conn) conn_.reset();
  connected_ = false;
  ready_ = false;
  Error lost = conn->error;
  if (!lost) lost = Error{ErrorKind::connection_lost, ReasonCode::success, "connection closed"};
  // SUBSCRIBE / UNSUBSCRIBE are not retried: their callers learn of the loss.
  // Remembered subscriptions are restored on the next connection anyway.
  for (auto& [id, pending] : subscribes_) {
    ids_in_use_.erase(id);
    if (pending.done) pending.done({lost, {}});
  }
  subscribes_.clear();
  for (auto& [id, pending] : unsubscribes_) {
    ids_in_use_.erase(id);
    if (pending.done) pending.done({lost, {}});
  }
  unsubscribes_.clear();
  if (on_down && !(stopping_ && lost.kind == ErrorKind::stopped))
    asio::post(callbacks_, [this, lost] { on_down(lost); });
}

std::future<void> ClientImpl::disconnect(ReasonCode reason, DisconnectProperties properties) {
  auto promise = std::make_shared<std::promise<void>>();
  auto future = promise->get_future();
  if (!started_) {
    promise->set_value();
    return future;
  }
  asio::post(io_, [this, reason, promise, p = std::move(properties)]() mutable {
    do_stop(reason, promise, std::move(p));
  });
  return future;
}

void ClientImpl::do_stop(ReasonCode reason, std::shared_ptr<std::promise<void>> closed,
                         DisconnectProperties properties) {
  stopping_ = true;
  backoff_timer_.cancel();
  if (conn_ && conn_->open) {
    codec::Disconnect disconnect{.reason_code = reason};
    std::vector<codec::UserProperty> users;  // views into `properties`, encoded by send()
    if (version_ == ProtocolVersion::v5) {
      disconnect.properties.session_expiry_interval = properties.session_expiry_interval;
      if (properties.reason_string) disconnect.properties.reason_string = *properties.reason_string;
      for (const auto& [name, value] : properties.user_properties)
        users.push_back({name, value});
      disconnect.properties.user_properties = users;
    }
    send(disconnect);
    conn_->close_after_flush = true;
    if (closed) conn_->closed_promises.push_back(std::move(closed));
    schedule_flush(conn_);
  } else if (closed) {
    closed->set_value();
  }
  if (connecting_) connecting_->transport->close();
}

void ClientImpl::fail_everything(ErrorKind kind, std::string_view why) {
  Error error{kind, ReasonCode::success, std::string(why)};
  auto queued = std::move(queue_);
  queue_.clear();
  auto inflight = std::move(inflight_);
  inflight_.clear();
  ids_in_use_.clear();
  for (auto& out : inflight)
    if (out.done) out.done({error, ReasonCode::success});
  for (auto& out : queued)
    if (out.done) out.done({error, ReasonCode::success});
  for (auto& [id, pending] : subscribes_)
    if (pending.done) pending.done({error, {}});
  subscribes_.clear();
  for (auto& [id, pending] : unsubscribes_)
    if (pending.done) pending.done({error, {}});
  unsubscribes_.clear();
  for (auto& pending : deferred_subscribes_)
    if (pending.done) pending.done({error, {}});
  deferred_subscribes_.clear();
  for (auto& pending : deferred_unsubscribes_)
    if (pending.done) pending.done({error, {}});
  deferred_unsubscribes_.clear();
  for (auto& waiter : drain_waiters_)
    waiter.set_value();
  drain_waiters_.clear();
}

void ClientImpl::shutdown() {
  if (shut_down_.exchange(true)) return;
  if (io_thread_.joinable()) {
    if (started_) {
      // Graceful: DISCONNECT, then wait (bounded) for the manager loop to wind down.
      auto closed = disconnect(ReasonCode::success, {});
      closed.wait_for(std::chrono::seconds(5));
      std::promise<std::future<void>> waiter;
      auto done_future = waiter.get_future();
      asio::post(io_, [this, &waiter] {
        if (manager_done_) {
          waiter.set_value(manager_done_->get_future());
        } else {
          std::promise<void> ready;
          ready.set_value();
          waiter.set_value(ready.get_future());
        }
      });
      if (done_future.wait_for(std::chrono::seconds(5)) == std::future_status::ready)
        done_future.get().wait_for(std::chrono::seconds(5));
    }
    io_work_.reset();
    io_.stop();
    io_thread_.join();
  }
  if (callback_thread_.joinable()) {
    callback_work_.reset();
    callback_thread_.join();
  }
}

}  // namespace cicada::client
