// The wire side of a connection: corked writes, the read loop, keep-alive, and the
// handling of every packet the broker sends. I/O thread only, except the public entry
// points at the bottom, which post to it.
#include <boost/asio/post.hpp>

#include <cicada/codec/encode.hpp>
#include <cicada/topic/topic.hpp>

#include "client_impl.hpp"
#include "store_record.hpp"

namespace cicada::client {

namespace {

Error rejected(ReasonCode reason, const codec::Properties& properties) {
  Error error{ErrorKind::rejected, reason, {}};
  if (properties.reason_string) error.message = std::string(*properties.reason_string);
  return error;
}

MessageProperties received_properties(const codec::Properties& p) {
  MessageProperties out;
  out.payload_format_indicator = p.payload_format_indicator;
  out.message_expiry_interval = p.message_expiry_interval;
  if (p.content_type) out.content_type = std::string(*p.content_type);
  if (p.response_topic) out.response_topic = std::string(*p.response_topic);
  if (p.correlation_data) out.correlation_data = std::string(*p.correlation_data);
  for (const auto& u : p.user_properties)
    out.user_properties.emplace_back(u.name, u.value);
  out.subscription_identifiers = p.subscription_identifiers;
  return out;
}

}  // namespace

void ClientImpl::send(const codec::Packet& packet) {
  if (!conn_ || !conn_->open) return;
  const std::size_t size = codec::encoded_size(packet, version_);
  const std::size_t at = conn_->out.size();
  conn_->out.resize(at + size);
  codec::encode(
      packet, version_,
      std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(conn_->out.data() + at), size));
  schedule_flush(conn_);
}

// Writes are corked: packets queued during one loop turn go out in one write
// (STYLE.md 6).
void ClientImpl::schedule_flush(const std::shared_ptr<Connection>& conn) {
  if (conn->flush_scheduled || conn->writing) return;
  conn->flush_scheduled = true;
  asio::post(io_, [this, conn] {
    conn->flush_scheduled = false;
    flush(conn);
  });
}

void ClientImpl::flush(const std::shared_ptr<Connection>& conn) {
  if (!conn->open || conn->writing) return;
  if (conn->out.empty()) {
    if (conn->close_after_flush)
      close(conn, conn->error ? conn->error
                              : Error{ErrorKind::stopped, ReasonCode::success, "disconnected"});
    return;
  }
  conn->writing = true;
  auto data = std::make_shared<std::string>(std::move(conn->out));
  conn->out.clear();
  conn->transport->write(asio::buffer(*data),
                         [this, conn, data](boost::system::error_code ec, std::size_t) {
                           conn->writing = false;
                           if (!conn->open) return;
                           if (ec) {
                             close(conn, Error{ErrorKind::connection_lost, ReasonCode::success,
                                               "write failed: " + ec.message()});
                             return;
                           }
                           flush(conn);
                         });
}

void ClientImpl::close(const std::shared_ptr<Connection>& conn, Error error) {
  if (!conn->open) return;
  conn->open = false;
  conn->error = std::move(error);
  conn->transport->close();
  conn->keep_alive_timer.cancel();
  conn->closed.cancel();
  if (conn->reauthenticating) {
    auto done = std::move(conn->reauthenticating);
    conn->reauthenticating = nullptr;
    done(conn->error);
  }
  for (auto& promise : conn->closed_promises)
    promise->set_value();
  conn->closed_promises.clear();
}

void ClientImpl::read_loop(const std::shared_ptr<Connection>& conn) {
  for (;;) {
    auto next = conn->parser.next();
    if (!next) {
      if (version_ == ProtocolVersion::v5 && conn == conn_)
        send(codec::Disconnect{.reason_code = next.error().code});
      close(conn,
            Error{ErrorKind::protocol_error, next.error().code, std::string(next.error().detail)});
      return;
    }
    if (!*next) break;
    handle(conn, std::move(**next));
    // Closed, or closing after a protocol violation: nothing more is read.
    if (!conn->open || conn->close_after_flush) return;
  }
  conn->parser.release_if_idle();
  auto space = conn->parser.prepare(4096);
  conn->transport->read_some(
      asio::buffer(space.data(), space.size()),
      [this, conn](boost::system::error_code ec, std::size_t n) {
        if (!conn->open) return;
        if (ec) {
          close(conn, Error{ErrorKind::connection_lost, ReasonCode::success,
                            ec == asio::error::eof ? "closed by the broker" : ec.message()});
          return;
        }
        conn->parser.commit(n);
        read_loop(conn);
      });
}

// A PINGREQ every keep-alive interval; no PINGRESP by the next tick means the
// connection is dead [MQTT-3.1.2-24 is the broker's side; this is the client's].
void ClientImpl::keep_alive(const std::shared_ptr<Connection>& conn) {
  if (keep_alive_.count() == 0) return;
  conn->keep_alive_timer.expires_after(keep_alive_);
  conn->keep_alive_timer.async_wait([this, conn](boost::system::error_code ec) {
    if (ec || !conn->open) return;
    if (conn->ping_outstanding) {
      close(conn, Error{ErrorKind::connection_lost, ReasonCode::keep_alive_timeout,
                        "no PINGRESP within the keep-alive interval"});
      return;
    }
    conn->ping_outstanding = true;
    if (conn == conn_) send(codec::Pingreq{});
    keep_alive(conn);
  });
}

void ClientImpl::handle(const std::shared_ptr<Connection>& conn, codec::ParsedPacket parsed) {
  auto& packet = parsed.packet;
  if (auto* publish = std::get_if<codec::Publish>(&packet)) {
    on_publish(*publish, parsed.owner);
  } else if (auto* puback = std::get_if<codec::Puback>(&packet)) {
    for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
      if (it->packet_id != puback->packet_id || it->message.qos != QoS::at_least_once) continue;
      PublishResult result{{}, puback->reason_code};
      if (codec::is_error(puback->reason_code))
        result.error = rejected(puback->reason_code, puback->properties);
      complete(it, std::move(result));
      break;
    }
  } else if (auto* pubrec = std::get_if<codec::Pubrec>(&packet)) {
    bool found = false;
    for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
      if (it->packet_id != pubrec->packet_id || it->message.qos != QoS::exactly_once) continue;
      found = true;
      if (codec::is_error(pubrec->reason_code)) {
        // A failing PUBREC ends the exchange: no PUBREL (MQTT 5.0 section 4.3.3).
        complete(it, {rejected(pubrec->reason_code, pubrec->properties), pubrec->reason_code});
      } else {
        it->released = true;
        store_released(*it);
        send(codec::Pubrel{.packet_id = it->packet_id});
      }
      break;
    }
    if (!found)
      send(codec::Pubrel{.packet_id = pubrec->packet_id,
                         .reason_code = ReasonCode::packet_identifier_not_found});
  } else if (auto* pubcomp = std::get_if<codec::Pubcomp>(&packet)) {
    for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
      if (it->packet_id != pubcomp->packet_id || !it->released) continue;
      complete(it, {{}, ReasonCode::success});
      break;
    }
  } else if (auto* pubrel = std::get_if<codec::Pubrel>(&packet)) {
    // QoS 2 inbound, method B: the id is forgotten only now, so a re-sent PUBLISH
    // with it before this point is not delivered twice [MQTT-4.3.3-9].
    const bool known = inbound_qos2_.erase(pubrel->packet_id) > 0;
    send(codec::Pubcomp{
        .packet_id = pubrel->packet_id,
        .reason_code = known ? ReasonCode::success : ReasonCode::packet_identifier_not_found});
  } else if (auto* suback = std::get_if<codec::Suback>(&packet)) {
    auto it = subscribes_.find(suback->packet_id);
    if (it == subscribes_.end()) return;
    auto pending = std::move(it->second);
    subscribes_.erase(it);
    ids_in_use_.erase(suback->packet_id);
    SubscribeResult result{{}, suback->reason_codes};
    bool any_failed = false;
    for (std::size_t i = 0; i < pending.requests.size(); ++i) {
      const bool ok = i < suback->reason_codes.size() && !codec::is_error(suback->reason_codes[i]);
      if (ok && pending.done)
        subscriptions_[pending.requests[i].filter] = {pending.requests[i], pending.properties};
      any_failed = any_failed || !ok;
    }
    if (any_failed) {
      result.error =
          Error{ErrorKind::rejected, ReasonCode::success, "one or more filters were refused"};
      for (auto code : suback->reason_codes)
        if (codec::is_error(code)) result.error.reason = code;
      if (suback->properties.reason_string)
        result.error.message += ": " + std::string(*suback->properties.reason_string);
    }
    if (pending.done) pending.done(std::move(result));
  } else if (auto* unsuback = std::get_if<codec::Unsuback>(&packet)) {
    auto it = unsubscribes_.find(unsuback->packet_id);
    if (it == unsubscribes_.end()) return;
    auto pending = std::move(it->second);
    unsubscribes_.erase(it);
    ids_in_use_.erase(unsuback->packet_id);
    if (pending.done) pending.done({{}, unsuback->reason_codes});
  } else if (auto* auth = std::get_if<codec::Auth>(&packet)) {
    on_auth(conn, *auth);
  } else if (std::holds_alternative<codec::Pingresp>(packet)) {
    conn->ping_outstanding = false;
  } else if (auto* disconnect = std::get_if<codec::Disconnect>(&packet)) {
    Error error{ErrorKind::connection_lost, disconnect->reason_code, "disconnected by the broker"};
    if (disconnect->properties.reason_string)
      error.message += ": " + std::string(*disconnect->properties.reason_string);
    close(conn, std::move(error));
  } else {
    if (version_ == ProtocolVersion::v5)
      send(codec::Disconnect{.reason_code = ReasonCode::protocol_error});
    close(conn, Error{ErrorKind::protocol_error, ReasonCode::protocol_error,
                      "unexpected " + std::string(codec::to_string(codec::type_of(packet))) +
                          " from the broker"});
  }
}

void ClientImpl::on_publish(const codec::Publish& publish, const SharedBuffer& owner) {
  std::string_view topic = publish.topic;
  if (publish.properties.topic_alias) {
    // [MQTT-3.3.2-10] [MQTT-3.3.2-11] aliases 1..our Topic Alias Maximum (none at all
    // when it is 0), defined on this connection.
    using Result = protocol::InboundTopicAliases::Result;
    switch (conn_->inbound_aliases.resolve(topic, *publish.properties.topic_alias)) {
      case Result::ok:
        break;
      case Result::alias_out_of_range:
        return protocol_violation(ReasonCode::topic_alias_invalid,
                                  "Topic Alias " + std::to_string(*publish.properties.topic_alias) +
                                      " above our Topic Alias Maximum of " +
                                      std::to_string(conn_->inbound_aliases.maximum()));
      case Result::unknown_alias:
        return protocol_violation(ReasonCode::topic_alias_invalid,
                                  "Topic Alias " + std::to_string(*publish.properties.topic_alias) +
                                      " used before it was defined");
      case Result::over_budget:
        // Our own bound on the table (STYLE.md 7), not the broker's mistake.
        return protocol_violation(ReasonCode::quota_exceeded,
                                  "topic alias table above its byte limit");
    }
  } else if (topic.empty()) {
    // An empty topic name needs an alias [MQTT-3.3.2-1 requires a topic].
    return protocol_violation(ReasonCode::topic_alias_invalid, "PUBLISH without a topic");
  }
  const bool manual = options_.manual_ack && publish.qos != QoS::at_most_once;
  bool deliver_it = true;
  if (publish.qos == QoS::exactly_once) {
    // [MQTT-4.3.3-9] an id not yet released is the same message again.
    auto [it, fresh] = inbound_qos2_.try_emplace(publish.packet_id,
                                                 manual ? Qos2State::unacked : Qos2State::acked);
    deliver_it = fresh;
    if (!fresh) {
      // Re-sent (e.g. after a reconnect): PUBREC again, now if the application has
      // acknowledged it, else when it does.
      if (it->second == Qos2State::acked)
        send(codec::Pubrec{.packet_id = publish.packet_id});
      else
        it->second = Qos2State::resent;
      return;
    }
  }
  if (deliver_it) {
    ReceivedMessage message;
    message.topic = std::string(topic);
    message.payload = publish.payload;
    message.qos = publish.qos;
    message.retain = publish.retain;
    message.dup = publish.dup;
    message.properties = received_properties(publish.properties);
    message.owner = owner;
    message.packet_id = publish.packet_id;
    message.connection = conn_->serial;
    deliver(std::move(message));
  }
  if (manual) {
    conn_->pending_acks.push_back({publish.packet_id, publish.qos, false});
    return;
  }
  if (publish.qos == QoS::at_least_once) send(codec::Puback{.packet_id = publish.packet_id});
  if (publish.qos == QoS::exactly_once) send(codec::Pubrec{.packet_id = publish.packet_id});
}

void ClientImpl::protocol_violation(ReasonCode reason, std::string why) {
  if (version_ == ProtocolVersion::v5) send(codec::Disconnect{.reason_code = reason});
  // The DISCONNECT is flushed before the socket closes.
  conn_->close_after_flush = true;
  conn_->error = Error{ErrorKind::protocol_error, reason, std::move(why)};
  schedule_flush(conn_);
}

void ClientImpl::ack(std::uint16_t packet_id, QoS qos, std::uint64_t connection) {
  asio::post(io_, [this, packet_id, qos, connection] {
    if (!options_.manual_ack || qos == QoS::at_most_once) return;
    bool resent = false;
    if (qos == QoS::exactly_once) {
      auto it = inbound_qos2_.find(packet_id);
      // Released already, or forgotten with the session.
      if (it == inbound_qos2_.end() || it->second == Qos2State::acked) return;
      resent = it->second == Qos2State::resent;
      it->second = Qos2State::acked;
    }
    if (!conn_ || !conn_->open) return;
    if (conn_->serial == connection) {
      for (auto& pending : conn_->pending_acks)
        if (pending.packet_id == packet_id && !pending.acked) {
          pending.acked = true;
          break;
        }
      send_ready_acks();
    } else if (resent) {
      // Delivered on an earlier connection and re-sent on this one; if it has not been
      // re-sent yet, the re-sent PUBLISH will find it acked and get its PUBREC.
      send(codec::Pubrec{.packet_id = packet_id});
    }
  });
}

void ClientImpl::send_ready_acks() {
  auto& pending = conn_->pending_acks;
  while (!pending.empty() && pending.front().acked) {
    const auto& front = pending.front();
    if (front.qos == QoS::at_least_once)
      send(codec::Puback{.packet_id = front.packet_id});
    else
      send(codec::Pubrec{.packet_id = front.packet_id});
    pending.pop_front();
  }
}

void ClientImpl::deliver(ReceivedMessage message) {
  asio::post(callbacks_, [this, m = std::move(message)] { router.dispatch(m); });
}

std::optional<std::uint32_t> ClientImpl::remaining_expiry(
    const Outgoing& out, std::chrono::steady_clock::time_point now) {
  const auto& interval = out.message.properties.message_expiry_interval;
  if (!interval) return std::nullopt;
  const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - out.created).count();
  if (waited <= 0) return *interval;
  return static_cast<std::uint64_t>(waited) >= *interval
             ? 0
             : *interval - static_cast<std::uint32_t>(waited);
}

void ClientImpl::send_publish(Outgoing& out, bool dup) {
  std::vector<codec::UserProperty> users;
  codec::Publish publish;
  publish.dup = dup;
  publish.qos = out.message.qos;
  publish.retain = out.message.retain;
  publish.topic = out.message.topic;
  if (conn_ && conn_->aliases) {
    // [MQTT-3.3.2-11] aliases stay within the broker's Topic Alias Maximum; the
    // protocol table only hands out 1..maximum.
    const auto choice = conn_->aliases->choose(out.message.topic);
    if (choice.alias != 0) {
      publish.properties.topic_alias = choice.alias;
      if (!choice.send_topic) publish.topic = {};
    }
  }
  publish.packet_id = out.packet_id;
  publish.payload = out.message.payload;
  if (version_ == ProtocolVersion::v5) {
    const auto& p = out.message.properties;
    publish.properties.payload_format_indicator = p.payload_format_indicator;
    // What is left of the interval, as a broker forwards it [MQTT-3.3.2-6]: the time
    // the message waited here (offline queue, Receive Maximum, a resend) counts. A
    // resend whose interval ran out meanwhile still goes (delivery had started,
    // [MQTT-3.3.2-5]) with the least interval there is, 1 s.
    if (p.message_expiry_interval) {
      const auto left = remaining_expiry(out, std::chrono::steady_clock::now());
      publish.properties.message_expiry_interval = std::max<std::uint32_t>(*left, 1);
    }
    if (p.content_type) publish.properties.content_type = *p.content_type;
    if (p.response_topic) publish.properties.response_topic = *p.response_topic;
    if (p.correlation_data) publish.properties.correlation_data = *p.correlation_data;
    for (const auto& [name, value] : p.user_properties)
      users.push_back({name, value});
    publish.properties.user_properties = users;
  }
  send(publish);
}

// What can be checked without the connection: the topic and the QoS.
Error check_message(const Message& message) {
  if (auto e = topic::validate_name(message.topic); e != topic::TopicError::ok)
    return Error{ErrorKind::invalid_argument, ReasonCode::topic_name_invalid,
                 "invalid topic '" + message.topic + "': " + std::string(topic::to_string(e))};
  if (static_cast<unsigned>(message.qos) > 2)
    return Error{ErrorKind::invalid_argument, ReasonCode::success, "QoS must be 0, 1 or 2"};
  return {};
}

Error ClientImpl::check_publish(const Message& message) const {
  if (Error e = check_message(message)) return e;
  if (conn_ && connack_.maximum_packet_size != 0) {
    // The broker's Maximum Packet Size [MQTT-3.1.2-24]; a rough upper bound of the
    // header is enough to refuse early rather than be disconnected.
    const std::size_t size = message.topic.size() + message.payload.size() + 16;
    if (size > connack_.maximum_packet_size)
      return Error{ErrorKind::packet_too_large, ReasonCode::packet_too_large,
                   "message exceeds the broker's maximum packet size of " +
                       std::to_string(connack_.maximum_packet_size) + " bytes"};
  }
  return {};
}

std::uint16_t ClientImpl::allocate_packet_id() {
  for (std::uint32_t tries = 0; tries < 65535; ++tries) {
    std::uint16_t id = next_packet_id_;
    next_packet_id_ =
        static_cast<std::uint16_t>(next_packet_id_ == 65535 ? 1 : next_packet_id_ + 1);
    if (ids_in_use_.insert(id).second) return id;
  }
  return 0;
}

void ClientImpl::complete(std::list<Outgoing>::iterator it, PublishResult result) {
  ids_in_use_.erase(it->packet_id);
  forget_stored(*it);
  auto done = std::move(it->done);
  inflight_.erase(it);
  if (done) done(std::move(result));
  pump_queue();
}

Error ClientImpl::expired_error(const Outgoing& out) {
  return Error{ErrorKind::expired, ReasonCode::success,
               "message expired waiting to be sent (Message Expiry Interval " +
                   std::to_string(out.message.properties.message_expiry_interval.value_or(0)) +
                   " s)"};
}

// A queued message that will not be sent. Its publish() learns why; one the file store
// brought back from an earlier run has no caller left, so on_store_error hears of it.
void ClientImpl::drop_queued(Outgoing& out, Error error) {
  if (!out.done && out.store_key != 0)
    store_problem("stored message " + FileStore::file_name(out.store_key, out.packet_id, false) +
                  " to '" + out.message.topic + "' dropped: " + error.describe());
  forget_stored(out);
  if (out.done) out.done({std::move(error), ReasonCode::success});
}

// Receive Maximum: at most that many QoS 1/2 PUBLISH unacknowledged [MQTT-4.9.0-2].
void ClientImpl::pump_queue() {
  while (conn_ && conn_->open && ready_ && !queue_.empty() &&
         inflight_.size() < connack_.receive_maximum) {
    Outgoing out = std::move(queue_.front());
    queue_.pop_front();
    if (Error e = check_publish(out.message)) {
      drop_queued(out, std::move(e));
      continue;
    }
    // Never sent and its interval over: not worth sending (a broker would drop it too,
    // [MQTT-3.3.2-5]). Reported, not silently lost (STYLE.md 7). For a message from
    // the file store the interval counts from its publish() in the earlier process.
    if (remaining_expiry(out, std::chrono::steady_clock::now()) == 0u) {
      drop_queued(out, expired_error(out));
      continue;
    }
    assign_packet_id(out);
    inflight_.push_back(std::move(out));
    send_publish(inflight_.back(), false);
  }
  check_drained();
}

void ClientImpl::send_subscribe(PendingSubscribe pending) {
  const std::uint16_t id = allocate_packet_id();
  codec::Subscribe subscribe;
  subscribe.packet_id = id;
  for (const auto& r : pending.requests)
    subscribe.subscriptions.push_back({r.filter,
                                       {.max_qos = r.qos,
                                        .no_local = r.no_local,
                                        .retain_as_published = r.retain_as_published,
                                        .retain_handling = r.retain_handling}});
  std::vector<codec::UserProperty> users;
  if (version_ == ProtocolVersion::v5) {
    // A broker without Subscription Identifiers treats one as a protocol error
    // (section 3.2.2.3.12); only a restore to such a broker gets here with one.
    if (pending.properties.subscription_identifier && connack_.subscription_identifiers_available)
      subscribe.properties.subscription_identifiers = {*pending.properties.subscription_identifier};
    for (const auto& [name, value] : pending.properties.user_properties)
      users.push_back({name, value});
    subscribe.properties.user_properties = users;
  }
  send(subscribe);
  subscribes_.emplace(id, std::move(pending));
}

// Public entry points: any thread; each posts its work to the I/O thread.

void ClientImpl::publish(Message message, std::function<void(PublishResult)> done) {
  if (shut_down_) {
    done({Error{ErrorKind::stopped, ReasonCode::success, "client stopped"}, ReasonCode::success});
    return;
  }
  std::uint64_t key = 0;
  if (store_ && message.qos != QoS::at_most_once) {
    // Written here, on the caller's thread, before publish() returns: the I/O thread
    // never waits for the disk, and a message publish() accepted is on disk.
    if (Error e = check_message(message)) return done({std::move(e), ReasonCode::success});
    // Wall clock, not steady: the next process reading the file counts from it.
    auto stored = store_->add(message, store::unix_seconds(std::chrono::system_clock::now()));
    if (!stored) {
      const bool full = stored.error().starts_with("file store full");
      return done({Error{full ? ErrorKind::queue_full : ErrorKind::store_failed,
                         full ? ReasonCode::quota_exceeded : ReasonCode::success, stored.error()},
                   ReasonCode::success});
    }
    key = *stored;
  }
  asio::post(io_, [this, m = std::move(message), done = std::move(done), key]() mutable {
    // Stopping: a stored message stays on disk and goes out after the next start.
    if (stopping_)
      return done({Error{ErrorKind::stopped, ReasonCode::success,
                         key != 0 ? "client stopped (kept in the file store)" : "client stopped"},
                   {}});
    if (Error e = check_publish(m)) {
      Outgoing refused{std::move(m), {}, 0, false, key};
      forget_stored(refused);
      return done({std::move(e), ReasonCode::success});
    }
    if (m.qos == QoS::at_most_once) {
      if (!conn_ || !conn_->open)
        return done({Error{ErrorKind::not_connected, ReasonCode::success,
                           "QoS 0 messages are not queued while disconnected"},
                     {}});
      Outgoing out{std::move(m), {}, 0, false};
      send_publish(out, false);
      return done({});
    }
    Outgoing out{std::move(m), std::move(done), 0, false, key};
    // While on_connection_up runs (!ready_) new messages go straight out, so the
    // callback may publish and wait; the offline queue follows once it returns.
    const bool direct = conn_ && conn_->open && (!ready_ || queue_.empty()) &&
                        inflight_.size() < connack_.receive_maximum;
    if (direct) {
      assign_packet_id(out);
      inflight_.push_back(std::move(out));
      send_publish(inflight_.back(), false);
      return;
    }
    if (queue_.size() >= options_.max_queued) {
      // Dropped, named and reported (STYLE.md 7).
      forget_stored(out);
      return out.done(
          {Error{ErrorKind::queue_full, ReasonCode::quota_exceeded,
                 "offline queue full (" + std::to_string(options_.max_queued) + " messages)"},
           {}});
    }
    queue_.push_back(std::move(out));
  });
}

void ClientImpl::subscribe(std::vector<SubscribeRequest> requests,
                           std::function<void(SubscribeResult)> done,
                           SubscribeProperties properties) {
  if (shut_down_)
    return done({Error{ErrorKind::stopped, ReasonCode::success, "client stopped"}, {}});
  asio::post(io_, [this, r = std::move(requests), done = std::move(done),
                   props = std::move(properties)]() mutable {
    if (stopping_)
      return done({Error{ErrorKind::stopped, ReasonCode::success, "client stopped"}, {}});
    if (r.empty())
      return done({Error{ErrorKind::invalid_argument, ReasonCode::success, "no topic filter"}, {}});
    for (const auto& request : r) {
      if (auto e = topic::validate_filter(request.filter); e != topic::TopicError::ok)
        return done(
            {Error{ErrorKind::invalid_argument, ReasonCode::topic_filter_invalid,
                   "invalid filter '" + request.filter + "': " + std::string(topic::to_string(e))},
             {}});
    }
    const bool has_properties = props.subscription_identifier || !props.user_properties.empty();
    if (has_properties && version_ != ProtocolVersion::v5)
      return done({Error{ErrorKind::invalid_argument, ReasonCode::success,
                         "SUBSCRIBE properties need MQTT 5"},
                   {}});
    if (props.subscription_identifier) {
      // 1..268,435,455, a Variable Byte Integer; 0 is a Protocol Error (3.8.2.1.2).
      const std::uint32_t id = *props.subscription_identifier;
      if (id == 0 || id > 268'435'455)
        return done(
            {Error{ErrorKind::invalid_argument, ReasonCode::success,
                   "Subscription Identifier must be 1..268435455, not " + std::to_string(id)},
             {}});
      if (conn_ && conn_->open && !connack_.subscription_identifiers_available)
        return done(
            {Error{ErrorKind::invalid_argument, ReasonCode::subscription_identifiers_not_supported,
                   "the broker does not support Subscription Identifiers"},
             {}});
    }
    if (!conn_ || !conn_->open) {
      // Sent right after the next CONNACK; the caller hears back on its SUBACK.
      deferred_subscribes_.push_back({std::move(r), std::move(done), std::move(props)});
      return;
    }
    send_subscribe({std::move(r), std::move(done), std::move(props)});
  });
}

void ClientImpl::unsubscribe(std::vector<std::string> filters,
                             std::function<void(UnsubscribeResult)> done,
                             UnsubscribeProperties properties) {
  if (shut_down_)
    return done({Error{ErrorKind::stopped, ReasonCode::success, "client stopped"}, {}});
  asio::post(io_, [this, f = std::move(filters), done = std::move(done),
                   props = std::move(properties)]() mutable {
    if (stopping_)
      return done({Error{ErrorKind::stopped, ReasonCode::success, "client stopped"}, {}});
    if (f.empty())
      return done({Error{ErrorKind::invalid_argument, ReasonCode::success, "no topic filter"}, {}});
    if (!props.user_properties.empty() && version_ != ProtocolVersion::v5)
      return done({Error{ErrorKind::invalid_argument, ReasonCode::success,
                         "UNSUBSCRIBE properties need MQTT 5"},
                   {}});
    for (const auto& filter : f)
      subscriptions_.erase(filter);
    // Deferred while disconnected: a resumed session still holds the subscription.
    if (!conn_ || !conn_->open)
      return deferred_unsubscribes_.push_back({std::move(f), std::move(done), std::move(props)});
    send_unsubscribe({std::move(f), std::move(done), std::move(props)});
  });
}

void ClientImpl::send_unsubscribe(PendingUnsubscribe pending) {
  const std::uint16_t id = allocate_packet_id();
  codec::Unsubscribe unsubscribe;
  unsubscribe.packet_id = id;
  for (const auto& filter : pending.filters)
    unsubscribe.filters.push_back(filter);
  std::vector<codec::UserProperty> users;
  if (version_ == ProtocolVersion::v5) {
    for (const auto& [name, value] : pending.properties.user_properties)
      users.push_back({name, value});
    unsubscribe.properties.user_properties = users;
  }
  send(unsubscribe);
  unsubscribes_.emplace(id, std::move(pending));
}

}  // namespace cicada::client
