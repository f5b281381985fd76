// CONNECT handling: version and client identifier rules, limits, authentication,
// session open, CONNACK (MQTT 5.0 sections 3.1, 3.2; MQTT 3.1.1 sections 3.1, 3.2).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "connection.hpp"
#include "worker.hpp"

namespace cicada::broker {

using codec::ProtocolVersion;
using codec::ReasonCode;

namespace {

std::string assign_client_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string id = "cicada-";
  std::uint64_t bits = random();
  for (int i = 0; i < 16; ++i, bits >>= 4)
    id.push_back(digits[bits & 0x0F]);
  return id;
}

// The Session Expiry Interval the client asks for. 3.1.1 has none: a persistent
// session (CleanSession 0) lasts mqtt.session_expiry_interval.
std::uint32_t requested_session_expiry(const codec::Connect& connect, const Config& config) {
  if (connect.version == ProtocolVersion::v5) {
    return connect.properties.session_expiry_interval.value_or(0);
  }
  return connect.clean_start ? 0 : config.session_expiry_interval;
}

}  // namespace

MessagePtr Connection::build_will(const codec::Will& will) const {
  Message message;
  message.topic = will.topic;
  message.payload = will.payload;
  message.qos = will.qos;
  message.retain = will.retain;
  if (v5()) {
    // The Will Properties travel with the Will Message (MQTT 5.0 3.1.3.2), all but
    // the Will Delay Interval, which is the server's business.
    message.properties = will.properties;
    message.properties.will_delay_interval.reset();
    message.properties.layout = {};
  }
  auto copy = std::const_pointer_cast<Message>(compact(message));
  copy->publisher = session_ ? session_->handle()->id() : 0;
  return copy;
}

void Connection::refuse(ReasonCode reason, std::string_view why) {
  // [MQTT-3.2.2-6] a refusal has Session Present 0; then the connection closes.
  send_packet(codec::Connack{.session_present = false, .reason_code = reason});
  close(why);
}

void Connection::on_connect(codec::Connect& connect, const SharedBuffer& owner) {
  const Config& config = worker_.config();
  version_ = connect.version;
  clean_start_ = connect.clean_start;
  client_id_ = std::string(connect.client_id);

  if (client_id_.empty()) {
    // [MQTT-3.1.3-8] (3.1.1) an empty ClientId needs CleanSession 1; MQTT 3.1 has no
    // empty ClientId at all.
    if (version_ == ProtocolVersion::v3_1 ||
        (version_ == ProtocolVersion::v3_1_1 && !connect.clean_start)) {
      return refuse(ReasonCode::client_identifier_not_valid,
                    "empty client id without clean session");
    }
    // [MQTT-3.1.3-6] [MQTT-3.1.3-7] assign one and, in MQTT 5, say which.
    client_id_ = assign_client_id();
    assigned_id_ = true;
  }
  // MQTT 3.1 allowed 1 to 23 characters.
  if ((version_ == ProtocolVersion::v3_1 && client_id_.size() > 23) ||
      client_id_.size() > config.max_clientid_len) {
    return refuse(ReasonCode::client_identifier_not_valid, "client id too long");
  }
  if (v5() && connect.properties.authentication_method) {
    // No enhanced authentication method is offered [MQTT-4.12.0-1].
    return refuse(ReasonCode::bad_authentication_method, "unsupported authentication method");
  }
  if (connect.will) {
    // [MQTT-3.2.2-12] [MQTT-3.2.2-13] a Will the server cannot honour is refused.
    if (static_cast<std::uint8_t>(connect.will->qos) > config.max_qos_allowed) {
      return refuse(ReasonCode::qos_not_supported, "will QoS above mqtt.max_qos_allowed");
    }
    if (connect.will->retain && !config.retain_available) {
      return refuse(ReasonCode::retain_not_supported, "retained will while retain is unavailable");
    }
    will_delay_ = v5() ? connect.will->properties.will_delay_interval.value_or(0) : 0;
  }

  keep_alive_ = connect.keep_alive;
  if (keep_alive_ > config.max_keepalive ||
      (v5() && keep_alive_ == 0 && config.max_keepalive < 65535)) {
    // MQTT 5.0 3.2.2.3.14: the server's Server Keep Alive replaces the client's.
    keep_alive_ = config.max_keepalive;
    server_keep_alive_changed_ = true;
  }
  const codec::Properties& p = connect.properties;
  client_max_packet_size_ = p.maximum_packet_size.value_or(268'435'460);
  client_receive_maximum_ = p.receive_maximum.value_or(65535);
  if (v5()) {
    // [MQTT-3.3.2-11] never more aliases than the client's Topic Alias Maximum.
    if (p.topic_alias_maximum.value_or(0) > 0) {
      outbound_aliases_ = std::make_unique<protocol::OutboundTopicAliases>(*p.topic_alias_maximum);
    }
  }
  connect_expiry_zero_ = requested_session_expiry(connect, config) == 0;

  if (connect.username) identity().username = std::string(*connect.username);
  const net::PeerIdentity* peer_identity = layer_ ? layer_->peer_identity() : nullptr;
  if (listener_ && listener_->peer_cert_as_username != PeerCertAsUsername::disabled) {
    // listeners.ssl.NAME.peer_cert_as_username: the verified certificate names the
    // client; without one it has no user name at all, so it cannot claim one.
    if (identity_) identity_->username.reset();
    if (peer_identity != nullptr) {
      identity().username = listener_->peer_cert_as_username == PeerCertAsUsername::cn
                                ? peer_identity->common_name
                                : peer_identity->subject;
    }
  }
  connect_ = std::make_unique<PendingConnect>(PendingConnect{std::move(connect), owner});
  state_ = State::authenticating;
  // Packets pipelined behind CONNECT wait until the CONNACK is decided.
  read_paused_ = true;

  if (worker_.auth().allows_everything()) {
    continue_connect();
    return;
  }
  ConnectRequest request{.client_id = client_id_,
                         .username = username(),
                         .password = connect_->password
                                         ? std::optional<std::string>(*connect_->password)
                                         : std::nullopt,
                         .peer_host = peer(),
                         .listener = listener_ ? listener_->name : std::string()};
  if (peer_identity != nullptr) {
    request.cert_subject = peer_identity->subject;
    request.cert_common_name = peer_identity->common_name;
  }
  std::weak_ptr<Connection> weak = weak_from_this();
  Worker* worker = &worker_;
  worker_.auth().authenticate(request, [weak, worker](AuthDecision decision) {
    worker->post([weak, decision](Worker&) {
      auto self = weak.lock();
      if (!self || self->closed()) return;
      if (!decision.allowed) return self->refuse_after_delay(decision.reason);
      self->superuser_ = decision.superuser;
      if (decision.client) self->identity().auth = std::move(decision.client);
      self->continue_connect();
    });
  });
}

void Connection::refuse_after_delay(ReasonCode reason) {
  worker_.stats().auth_failures.fetch_add(1, std::memory_order_relaxed);
  if (reason == ReasonCode::banned) {
    worker_.stats().refused_banned.fetch_add(1, std::memory_order_relaxed);
  }
  const auto delay = std::chrono::milliseconds(worker_.config().auth_failure_delay_ms);
  spdlog::info("client {} ({}): authentication failed ({}), refused after {} ms", client_id_,
               peer(), codec::to_string(reason), delay.count());
  if (delay.count() == 0) return refuse(reason, "authentication failed");
  // A brute-forcer learns the answer only after node.auth_failure_delay, so one
  // connection gets few guesses a second. A timer, not a sleep: the worker serves
  // everyone else meanwhile, and this connection reads nothing more (read_paused_).
  worker_.run_at(Clock::now() + delay, [weak = weak_from_this(), reason] {
    auto self = weak.lock();
    if (!self || self->closed()) return;
    self->refuse(reason, "authentication failed");
  });
}

void Connection::continue_connect() {
  if (!connect_->will || worker_.auth().allows_everything()) {
    worker_.open_session(*this, client_id_, clean_start_);
    return;
  }
  // The Will is a PUBLISH asked for in advance. Mosquitto and EMQX authorize it when
  // they would publish it and drop it when denied, the connection unaffected; Cicada
  // asks at CONNECT, while the client is there to ask about (the answer comes from the
  // ACL as it is now: a reload before the Will is due does not change it).
  const codec::Will& will = *connect_->will;
  const AccessRequest request =
      access_request(std::string(will.topic), Action::publish, will.qos, will.retain);
  std::weak_ptr<Connection> weak = weak_from_this();
  Worker* worker = &worker_;
  worker_.auth().authorize(request, [weak, worker](bool allowed) {
    worker->post([weak, allowed](Worker&) {
      auto self = weak.lock();
      if (!self || self->closed()) return;
      if (!allowed) {
        spdlog::info("client {} ({}): will to {} not authorized, discarded", self->client_id_,
                     self->peer(), self->connect_->will->topic);
        self->connect_->will.reset();
      }
      self->worker_.open_session(*self, self->client_id_, self->clean_start_);
    });
  });
}

void Connection::on_session_ready(Session& session, bool present) {
  const Config& config = worker_.config();
  const TimePoint now = worker_.now();
  session_ = &session;
  std::string().swap(client_id_);  // the session's handle has it now (client_id())
  worker_.cancel_pending_will(session);
  // Read from the CONNECT, kept until now, rather than kept on every connection.
  const std::uint32_t requested_expiry = requested_session_expiry(*connect_, config);
  session.expiry_interval = std::min(requested_expiry, config.session_expiry_interval);
  if (connect_->will) will_ = build_will(*connect_->will);

  codec::Connack connack{.session_present = present && !clean_start_};
  if (v5()) {
    codec::Properties& p = connack.properties;
    if (session.expiry_interval != requested_expiry) {
      p.session_expiry_interval = session.expiry_interval;  // MQTT 5.0 3.2.2.3.2
    }
    if (config.max_inflight != 65535) p.receive_maximum = config.max_inflight;
    if (config.max_qos_allowed < 2) p.maximum_qos = config.max_qos_allowed;
    if (!config.retain_available) p.retain_available = 0;
    p.maximum_packet_size = config.max_packet_size;
    if (assigned_id_) p.assigned_client_identifier = client_id();
    if (config.max_topic_alias > 0) p.topic_alias_maximum = config.max_topic_alias;
    if (!config.wildcard_subscription) p.wildcard_subscription_available = 0;
    if (!config.shared_subscription) p.shared_subscription_available = 0;
    if (server_keep_alive_changed_) p.server_keep_alive = keep_alive_;
    if (connect_->properties.request_response_information.value_or(0) == 1 &&
        !config.response_information.empty()) {
      p.response_information = config.response_information;
    }
  }
  send_packet(connack);
  state_ = State::connected;
  WorkerStats::add(worker_.stats().clients_connected);
  WorkerStats::add(worker_.stats().connects);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("client {} ({}) connected: MQTT {}, clean start {}, keep alive {}s, session {}",
                  client_id(), peer(), codec::to_string(version_), bool{clean_start_}, keep_alive_,
                  present ? "resumed" : "new");
  }
  connect_.reset();
  if (config.messages_rate > 0 || config.bytes_rate > 0) {
    // Bursts of one second's worth: the limit is what a client would measure.
    publish_limit_ = std::make_unique<PublishLimit>();
    if (config.messages_rate > 0)
      publish_limit_->messages.emplace(config.messages_rate, config.messages_rate);
    if (config.bytes_rate > 0) publish_limit_->bytes.emplace(config.bytes_rate, config.bytes_rate);
  }
  // The window towards the client: its Receive Maximum [MQTT-3.3.4-9], and at most
  // mqtt.max_inflight.
  session.attach(*this, version_, std::min(client_receive_maximum_, config.max_inflight), now);
  resume_reading();
}

void Connection::kick_for_takeover(bool session_ends) {
  if (session_ != nullptr) {
    if (will_ && (session_ends || will_delay_ == 0)) worker_.publish_will(will_);
    will_.reset();
    session_->detach(worker_.now());
    client_id_ = session_->client_id();  // for the lines logged while closing
    session_ = nullptr;
  }
  close("session taken over by a new connection", ReasonCode::session_taken_over);
}

}  // namespace cicada::broker
