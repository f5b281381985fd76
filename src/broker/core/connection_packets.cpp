// Packets of an established connection: PUBLISH and its acknowledgements, SUBSCRIBE,
// UNSUBSCRIBE, PINGREQ, DISCONNECT; and what a malformed packet costs the client.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include <cicada/codec/utf8.hpp>
#include <cicada/topic/topic.hpp>

#include "connection.hpp"
#include "worker.hpp"

namespace cicada::broker {

using codec::QoS;
using codec::ReasonCode;

namespace {

std::size_t level_count(std::string_view topic) {
  return static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/')) + 1;
}

// EMQX's "$queue/filter" is a shared subscription of one group named "$queue".
std::string normalise_filter(std::string_view filter) {
  constexpr std::string_view queue = "$queue/";
  if (filter.starts_with(queue) && filter.size() > queue.size()) {
    return "$share/$queue/" + std::string(filter.substr(queue.size()));
  }
  return std::string(filter);
}

}  // namespace

void Connection::handle(codec::ParsedPacket& parsed) {
  codec::Packet& packet = parsed.packet;
  const TimePoint now = worker_.now();
  if (state_ == State::awaiting_connect) {
    if (auto* connect = std::get_if<codec::Connect>(&packet))
      return on_connect(*connect, parsed.owner);
    // [MQTT-3.1.0-1] the first packet must be CONNECT.
    return close("first packet was not CONNECT");
  }
  switch (codec::type_of(packet)) {
    case codec::PacketType::connect:
      // [MQTT-3.1.0-2] a second CONNECT is a Protocol Error.
      return protocol_violation(ReasonCode::protocol_error, "second CONNECT");
    case codec::PacketType::publish:
      return on_publish(std::get<codec::Publish>(packet), parsed.owner);
    case codec::PacketType::puback:
      session_->on_puback(std::get<codec::Puback>(packet).packet_id, now);
      return;
    case codec::PacketType::pubrec: {
      const auto& pubrec = std::get<codec::Pubrec>(packet);
      if (!session_->on_pubrec(pubrec.packet_id, codec::is_error(pubrec.reason_code), now)) {
        // MQTT 5.0 3.6.2.1: answer an unknown id with PUBREL 0x92.
        send_packet(codec::Pubrel{.packet_id = pubrec.packet_id,
                                  .reason_code = ReasonCode::packet_identifier_not_found});
      }
      return;
    }
    case codec::PacketType::pubrel: {
      std::uint16_t id = std::get<codec::Pubrel>(packet).packet_id;
      // [MQTT-4.3.3-11] PUBCOMP releases the id; 0x92 when it was not known.
      bool known = session_->release_qos2(id);
      send_packet(codec::Pubcomp{
          .packet_id = id,
          .reason_code = known ? ReasonCode::success : ReasonCode::packet_identifier_not_found});
      return;
    }
    case codec::PacketType::pubcomp:
      session_->on_pubcomp(std::get<codec::Pubcomp>(packet).packet_id, now);
      return;
    case codec::PacketType::subscribe:
      return on_subscribe(std::get<codec::Subscribe>(packet));
    case codec::PacketType::unsubscribe:
      return on_unsubscribe(std::get<codec::Unsubscribe>(packet));
    case codec::PacketType::pingreq:
      // [MQTT-3.12.4-1]
      send_packet(codec::Pingresp{});
      return;
    case codec::PacketType::disconnect:
      return on_disconnect(std::get<codec::Disconnect>(packet));
    case codec::PacketType::auth:
      // No authentication method was agreed, so AUTH has no place here [MQTT-4.12.0-1].
      return protocol_violation(ReasonCode::protocol_error,
                                "AUTH without an authentication method");
    default:
      // CONNACK, SUBACK, UNSUBACK, PINGRESP only travel from server to client.
      return protocol_violation(ReasonCode::protocol_error, "packet a server never receives");
  }
}

void Connection::on_publish(codec::Publish& publish, const SharedBuffer& owner) {
  WorkerStats::add(worker_.stats().publish_received);
  WorkerStats::add(worker_.stats().publish_bytes_received, publish.payload.size());
  const Config& config = worker_.config();
  codec::Properties& p = publish.properties;
  if (static_cast<std::uint8_t>(publish.qos) > config.max_qos_allowed) {
    // [MQTT-3.2.2-11] a QoS above the advertised Maximum QoS.
    return protocol_violation(ReasonCode::qos_not_supported, "PUBLISH QoS above Maximum QoS");
  }
  if (publish.retain && !config.retain_available) {
    // [MQTT-3.2.2-14] retain when Retain Available is 0.
    if (v5()) return protocol_violation(ReasonCode::retain_not_supported, "retain not available");
    publish.retain = false;
  }
  if (!p.subscription_identifiers.empty()) {
    // [MQTT-3.3.4-6] a client never sends a Subscription Identifier.
    return protocol_violation(ReasonCode::protocol_error, "Subscription Identifier from a client");
  }
  std::string_view topic = publish.topic;
  if (p.topic_alias) {
    // [MQTT-3.3.2-9] [MQTT-3.3.2-10] aliases up to our Topic Alias Maximum, per connection.
    if (!inbound_aliases_) {
      // Our Topic Alias Maximum; 0 before MQTT 5, where any alias is out of range.
      inbound_aliases_ = std::make_unique<protocol::InboundTopicAliases>(
          v5() ? config.max_topic_alias : std::uint16_t{0});
    }
    switch (inbound_aliases_->resolve(topic, *p.topic_alias)) {
      case protocol::InboundTopicAliases::Result::ok:
        break;
      case protocol::InboundTopicAliases::Result::alias_out_of_range:
        return protocol_violation(ReasonCode::topic_alias_invalid, "Topic Alias above the maximum");
      case protocol::InboundTopicAliases::Result::unknown_alias:
        return protocol_violation(ReasonCode::protocol_error, "unknown Topic Alias");
      case protocol::InboundTopicAliases::Result::over_budget:
        // An administrative limit, not a protocol error: 0x97 Quota exceeded.
        return protocol_violation(ReasonCode::quota_exceeded,
                                  "topic alias table above its byte limit");
    }
  }
  if (p.payload_format_indicator.value_or(0) == 1 && !codec::is_well_formed_utf8(publish.payload)) {
    // [MQTT-3.3.2-4] a payload said to be UTF-8 that is not: 0x99.
    if (publish.qos == QoS::at_most_once) {
      return protocol_violation(ReasonCode::payload_format_invalid, "payload is not UTF-8");
    }
    return acknowledge(publish, ReasonCode::payload_format_invalid);
  }
  // Clients may not publish into $SYS/: refused (0x87) but never disconnected.
  const bool sys = topic == "$SYS" || topic.starts_with("$SYS/");
  const bool too_long = topic.size() > config.max_topic_length;
  const bool too_deep = !too_long && level_count(topic) > config.max_topic_levels;
  if (too_long) note_refusal(Refusal::topic_length, "PUBLISH topic above mqtt.max_topic_length");
  if (too_deep) note_refusal(Refusal::topic_levels, "PUBLISH topic above mqtt.max_topic_levels");
  if (sys || too_deep || too_long) {
    if (sys)
      spdlog::debug("client {}: PUBLISH to {} refused ($SYS is the broker's)", client_id(), topic);
    if (publish.qos == QoS::exactly_once && !v5()) {
      // 3.1.1 has no refusal code: complete the exchange so the client stops resending.
      session_->receive_qos2(publish.packet_id, worker_.now());
    }
    return acknowledge(publish,
                       v5() ? (sys ? ReasonCode::not_authorized : ReasonCode::topic_name_invalid)
                            : ReasonCode::success);
  }

  publish.topic = topic;
  if (worker_.auth().allows_everything()) return finish_publish(publish, owner, true);

  // Ask the authorization hooks. Most answers come at once (files, caches) and are
  // acted on inline. Otherwise this client's later packets wait for the answer (order
  // is kept) while everyone else on the worker goes on being served.
  struct Pending {
    codec::Publish publish;
    SharedBuffer owner;
    std::string topic;  // the alias table may change; keep the topic
  };
  struct Answer {
    std::atomic<int> state{0};  // 0: asking, 1: answered before authorize() returned,
                                // 2: the answer will come later
    bool allowed = false;
    std::shared_ptr<Pending> pending;  // set when the answer comes later
  };
  auto answer = std::make_shared<Answer>();
  const AccessRequest request =
      access_request(std::string(topic), Action::publish, publish.qos, publish.retain);
  std::weak_ptr<Connection> weak = weak_from_this();
  Worker* worker = &worker_;
  worker_.auth().authorize(request, [weak, worker, answer](bool allowed) {
    answer->allowed = allowed;
    int asking = 0;
    if (answer->state.compare_exchange_strong(asking, 1, std::memory_order_acq_rel)) return;
    // Runs after the handler that asked, so `pending` is set by then.
    worker->post([weak, answer](Worker&) {
      auto self = weak.lock();
      if (!self || self->closed() || self->session_ == nullptr) return;
      self->finish_publish(answer->pending->publish, answer->pending->owner, answer->allowed);
      self->resume_reading();
    });
  });
  int asking = 0;
  if (!answer->state.compare_exchange_strong(asking, 2, std::memory_order_acq_rel)) {
    return finish_publish(publish, owner, answer->allowed);
  }
  answer->pending = std::make_shared<Pending>(Pending{publish, owner, std::string(topic)});
  // route() keeps a view of the topic in the Message, which owns only the receive
  // buffer: a topic from that buffer stays valid, while one from the alias table is
  // copied (route() copies it when topic_alias is set), so only then does the pending
  // copy point at its own.
  if (publish.properties.topic_alias) answer->pending->publish.topic = answer->pending->topic;
  read_paused_ = true;
}

void Connection::finish_publish(codec::Publish& publish, const SharedBuffer& owner, bool allowed) {
  if (!allowed && worker_.config().authorization_deny_disconnect) {
    // authorization.deny_action = "disconnect" (EMQX): no acknowledgement, the
    // connection ends (MQTT 5: DISCONNECT 0x87 first).
    return close("publish to " + std::string(publish.topic) + " not authorized",
                 ReasonCode::not_authorized);
  }
  if (!allowed) {
    // MQTT 5: PUBACK/PUBREC 0x87; 3.1.1 has no refusal: the message is dropped.
    if (publish.qos == QoS::exactly_once && !v5())
      session_->receive_qos2(publish.packet_id, worker_.now());
    return acknowledge(publish, v5() ? ReasonCode::not_authorized : ReasonCode::success);
  }
  if (publish.qos == QoS::exactly_once) {
    // The Receive Maximum we advertised bounds a v5 client's unreleased QoS 2
    // messages [MQTT-3.3.4-7]; mqtt.max_awaiting_rel bounds everyone's.
    const Config& config = worker_.config();
    const std::size_t limit =
        v5() ? std::min<std::size_t>(config.max_inflight, config.max_awaiting_rel)
             : config.max_awaiting_rel;
    if (session_->awaiting_release(publish.packet_id)) {
      // [MQTT-4.3.3-10] a resent PUBLISH is acknowledged again, not delivered again.
      return acknowledge(publish, ReasonCode::success);
    }
    if (session_->awaiting_release() >= limit) {
      return protocol_violation(ReasonCode::receive_maximum_exceeded,
                                "too many QoS 2 messages awaiting PUBREL");
    }
    switch (session_->receive_qos2(publish.packet_id, worker_.now())) {
      case Session::Qos2Arrival::first:
        break;
      case Session::Qos2Arrival::duplicate:
        // [MQTT-4.3.3-10] a resent PUBLISH is acknowledged again, not delivered again.
        return acknowledge(publish, ReasonCode::success);
      case Session::Qos2Arrival::too_many:
        return protocol_violation(ReasonCode::receive_maximum_exceeded,
                                  "too many QoS 2 messages awaiting PUBREL");
    }
  }
  route(publish, owner);
  acknowledge(publish, ReasonCode::success);
}

void Connection::acknowledge(const codec::Publish& publish, ReasonCode code) {
  if (publish.qos == QoS::at_least_once) {
    send_packet(codec::Puback{.packet_id = publish.packet_id, .reason_code = code});
  } else if (publish.qos == QoS::exactly_once) {
    send_packet(codec::Pubrec{.packet_id = publish.packet_id, .reason_code = code});
  }
}

void Connection::route(codec::Publish& publish, const SharedBuffer& owner) {
  auto message = std::make_shared<Message>();
  message->owner = owner;
  if (publish.properties.topic_alias) {
    // The topic may live in the alias table, which changes: the message owns a copy.
    message->storage = std::string(publish.topic);
    message->topic = message->storage;
  } else {
    message->topic = publish.topic;
  }
  message->payload = publish.payload;
  message->qos = publish.qos;
  message->retain = publish.retain;
  message->publisher = session_->handle()->id();
  // Most PUBLISH packets carry no property at all: none was on the wire.
  message->no_properties = publish.properties.layout.count == 0;
  if (v5() && !message->no_properties) {
    message->properties = std::move(publish.properties);
    message->properties.topic_alias.reset();
    message->properties.layout = {};
    if (message->properties.message_expiry_interval) {
      message->expires_at =
          worker_.now() + std::chrono::seconds(*message->properties.message_expiry_interval);
    }
  }
  worker_.publish(message);
}

void Connection::on_subscribe(const codec::Subscribe& subscribe) {
  const std::size_t count = subscribe.subscriptions.size();
  if (worker_.auth().allows_everything()) {
    return finish_subscribe(subscribe, std::vector<bool>(count, true));
  }
  // One authorization question per filter; the SUBACK waits for all the answers,
  // and so do this client's later packets.
  struct Pending {
    codec::Subscribe subscribe;
    std::vector<std::string> filters;  // owned: the receive buffer is not kept
    std::vector<bool> allowed;
    std::size_t answers = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->subscribe = subscribe;
  pending->allowed.assign(count, false);
  for (std::size_t i = 0; i < count; ++i) {
    pending->filters.emplace_back(subscribe.subscriptions[i].filter);
  }
  for (std::size_t i = 0; i < count; ++i)
    pending->subscribe.subscriptions[i].filter = pending->filters[i];
  read_paused_ = true;
  std::weak_ptr<Connection> weak = weak_from_this();
  Worker* worker = &worker_;
  for (std::size_t i = 0; i < count; ++i) {
    const AccessRequest request = access_request(pending->filters[i], Action::subscribe,
                                                 subscribe.subscriptions[i].options.max_qos, false);
    worker_.auth().authorize(request, [weak, worker, pending, i](bool allowed) {
      worker->post([weak, pending, i, allowed](Worker&) {
        pending->allowed[i] = allowed;
        if (++pending->answers < pending->allowed.size()) return;
        auto self = weak.lock();
        if (!self || self->closed() || self->session_ == nullptr) return;
        self->finish_subscribe(pending->subscribe, pending->allowed);
        self->resume_reading();
      });
    });
  }
}

void Connection::finish_subscribe(const codec::Subscribe& subscribe,
                                  const std::vector<bool>& allowed) {
  const Config& config = worker_.config();
  if (config.authorization_deny_disconnect &&
      std::find(allowed.begin(), allowed.end(), false) != allowed.end()) {
    // authorization.deny_action = "disconnect": no SUBACK and none of this SUBSCRIBE's
    // filters take effect; the connection ends (MQTT 5: DISCONNECT 0x87 first).
    return close("subscribe not authorized", ReasonCode::not_authorized);
  }
  codec::Suback suback{.packet_id = subscribe.packet_id};
  const std::uint32_t identifier = subscribe.properties.subscription_identifiers.empty()
                                       ? 0
                                       : subscribe.properties.subscription_identifiers.front();
  std::vector<RetainedMessage> retained;
  // Authorization already answered for the filter; a retained message under a wildcard
  // filter is asked about on its own (deliver_retained), unless nobody is asked anything.
  const bool trusted = superuser_ || worker_.auth().allows_everything();
  auto refuse_code = [&](ReasonCode v5_code) {
    return v5() ? v5_code : ReasonCode::unspecified_error;  // 0x80 Failure in 3.1.1
  };
  for (std::size_t index = 0; index < subscribe.subscriptions.size(); ++index) {
    const codec::Subscription& entry = subscribe.subscriptions[index];
    if (!allowed[index]) {
      // A refused SUBSCRIBE: 0x87 in MQTT 5, 0x80 Failure in 3.1.1.
      suback.reason_codes.push_back(refuse_code(ReasonCode::not_authorized));
      continue;
    }
    std::string filter = normalise_filter(entry.filter);
    auto shared = topic::parse_shared(filter);
    std::string_view plain = shared ? shared->filter : std::string_view(filter);
    if (!config.wildcard_subscription && topic::has_wildcard(plain)) {
      suback.reason_codes.push_back(refuse_code(ReasonCode::wildcard_subscriptions_not_supported));
      continue;
    }
    if (shared && !config.shared_subscription) {
      suback.reason_codes.push_back(refuse_code(ReasonCode::shared_subscriptions_not_supported));
      continue;
    }
    if (entry.filter.size() > config.max_topic_length) {
      note_refusal(Refusal::topic_length, "topic filter above mqtt.max_topic_length");
      suback.reason_codes.push_back(refuse_code(ReasonCode::topic_filter_invalid));
      continue;
    }
    if (level_count(plain) > config.max_topic_levels) {
      note_refusal(Refusal::topic_levels, "topic filter above mqtt.max_topic_levels");
      suback.reason_codes.push_back(refuse_code(ReasonCode::topic_filter_invalid));
      continue;
    }
    if (config.max_subscriptions != 0 &&
        session_->subscriptions().size() >= config.max_subscriptions &&
        !session_->subscriptions().contains(filter)) {
      // An administrative limit: 0x97 Quota exceeded (3.1.1: 0x80 Failure).
      note_refusal(Refusal::subscriptions, "mqtt.max_subscriptions reached");
      suback.reason_codes.push_back(refuse_code(ReasonCode::quota_exceeded));
      continue;
    }
    codec::SubscribeOptions options = entry.options;
    // [MQTT-3.8.4-8] grant at most what the server supports.
    options.max_qos = std::min(options.max_qos, static_cast<QoS>(config.max_qos_allowed));
    if (!v5() && config.ignore_loop_deliver) options.no_local = true;
    bool existed = false;
    worker_.subscribe(*session_, filter, options, identifier, existed);
    suback.reason_codes.push_back(static_cast<ReasonCode>(options.max_qos));

    // Retained messages: not for shared subscriptions (MQTT 5.0 4.8.2), and as Retain
    // Handling says [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11].
    const auto handling = options.retain_handling;
    if (!shared && (handling == codec::RetainHandling::send_on_subscribe ||
                    (handling == codec::RetainHandling::send_if_new_subscription && !existed))) {
      for (MessagePtr& message :
           worker_.router().retained_for(filter, config.retainer_max_deliver_per_subscribe)) {
        const bool known = trusted || message->topic == plain;
        retained.push_back({std::move(message), options.max_qos, known});
      }
    }
  }
  send_packet(suback);
  deliver_retained(std::move(retained), identifier);
}

void Connection::on_unsubscribe(const codec::Unsubscribe& unsubscribe) {
  codec::Unsuback unsuback{.packet_id = unsubscribe.packet_id};
  for (std::string_view filter : unsubscribe.filters) {
    bool existed = worker_.unsubscribe(*session_, normalise_filter(filter));
    if (v5()) {
      unsuback.reason_codes.push_back(existed ? ReasonCode::success
                                              : ReasonCode::no_subscription_existed);
    }
  }
  send_packet(unsuback);
}

void Connection::on_disconnect(const codec::Disconnect& disconnect) {
  if (v5() && disconnect.properties.session_expiry_interval) {
    // [MQTT-3.14.2-2] a session that was to end at once cannot be made to live on.
    if (connect_expiry_zero_ && *disconnect.properties.session_expiry_interval != 0) {
      return protocol_violation(ReasonCode::protocol_error,
                                "Session Expiry Interval set on DISCONNECT after 0 on CONNECT");
    }
    session_->expiry_interval = std::min(*disconnect.properties.session_expiry_interval,
                                         worker_.config().session_expiry_interval);
  }
  // [MQTT-3.14.4-3] a normal DISCONNECT discards the Will; 0x04 asks for it.
  if (disconnect.reason_code != ReasonCode::disconnect_with_will_message) will_.reset();
  close("client disconnected");
}

void Connection::note_refusal(Refusal kind, std::string_view what) {
  WorkerStats& stats = worker_.stats();
  switch (kind) {
    case Refusal::subscriptions:
      stats.refused_max_subscriptions.fetch_add(1, std::memory_order_relaxed);
      break;
    case Refusal::topic_levels:
      stats.refused_topic_levels.fetch_add(1, std::memory_order_relaxed);
      break;
    case Refusal::topic_length:
      stats.refused_topic_length.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  // Once per connection and kind: a client that repeats the mistake in a loop must not
  // fill the log.
  const auto bit = static_cast<std::uint8_t>(kind);
  if ((refusals_logged_ & bit) != 0) return;
  refusals_logged_ = (refusals_logged_ | bit) & 0x7;  // the field is 3 bits wide
  spdlog::info("client {} ({}): refused: {} (logged once per connection)", client_id(), peer(),
               what);
}

void Connection::protocol_violation(ReasonCode reason, std::string_view why) {
  // [MQTT-4.13.1-1] MQTT 5: DISCONNECT with the reason, then close; 3.1.1: close.
  close(why, reason);
}

void Connection::on_decode_error(const codec::DecodeError& error) {
  if (state_ == State::awaiting_connect && error.code == ReasonCode::unsupported_protocol_version) {
    // [MQTT-3.1.2-2] an unsupported protocol level gets CONNACK 0x01 (3.1.1 form,
    // which every client version can read) and the connection closes.
    return refuse(error.code, error.detail);
  }
  std::string why = std::string(codec::to_string(error.code)) + ": " + std::string(error.detail);
  close(why, error.code);
}

}  // namespace cicada::broker
