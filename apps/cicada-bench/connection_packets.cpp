// The MQTT side of Connection: encoding what it sends, handling what it receives.
#include <cassert>
#include <cstring>

#include <cicada/codec/encode.hpp>

#include "connection.hpp"
#include "payload.hpp"

namespace cicada::bench {

PacketTemplates make_templates(codec::ProtocolVersion version) {
  using namespace codec;
  return PacketTemplates{.puback = encode_to_string(Puback{}, version),
                         .pubrec = encode_to_string(Pubrec{}, version),
                         .pubrel = encode_to_string(Pubrel{}, version),
                         .pubcomp = encode_to_string(Pubcomp{}, version),
                         .pingreq = encode_to_string(Pingreq{}, version),
                         .disconnect = encode_to_string(Disconnect{}, version)};
}

void Connection::build_publish_template() {
  const bool acknowledged = settings_.pub_qos != codec::QoS::at_most_once;
  std::vector<std::uint8_t> payload(settings_.payload_size);
  write_payload(payload, PayloadHeader{.run_id = settings_.run_id,
                                       .publisher = static_cast<std::uint32_t>(spec_.index)});
  codec::Publish publish{
      .qos = settings_.pub_qos,
      .retain = settings_.retain,
      .topic = spec_.topic,
      .packet_id = static_cast<std::uint16_t>(acknowledged ? 0xFFFF : 0),
      .payload = {reinterpret_cast<const char*>(payload.data()), payload.size()}};
  const std::size_t header = codec::publish_header_size(publish, settings_.version);
  publish_.resize(header + payload.size());
  codec::encode_publish_header(publish, settings_.version, publish_);
  std::memcpy(publish_.data() + header, payload.data(), payload.size());
  payload_offset_ = header;
  if (acknowledged) {
    // Find the identifier by encoding a second header with another one: whatever the
    // version's layout, the two differ exactly there.
    std::vector<std::uint8_t> other(header);
    publish.packet_id = 0x0001;
    codec::encode_publish_header(publish, settings_.version, other);
    std::size_t i = 0;
    while (i < header && publish_[i] == other[i])
      ++i;
    assert(i + 1 < header && publish_[i] == 0xFF && other[i + 1] == 0x01);
    packet_id_offset_ = i;
  }
  // Room for a batch of messages up front, so the buffer rarely grows while publishing.
  out_.reserve(std::max<std::size_t>(4096, publish_.size() * 4));
}

void Connection::queue_connect() {
  codec::Connect connect{.version = settings_.version,
                         .clean_start = settings_.clean_start,
                         .keep_alive = settings_.keep_alive,
                         .client_id = spec_.client_id};
  if (settings_.username) connect.username = *settings_.username;
  if (settings_.password) connect.password = *settings_.password;
  if (settings_.version == codec::ProtocolVersion::v5) {
    connect.properties.session_expiry_interval = settings_.session_expiry;
  }
  const std::string bytes = codec::encode_to_string(connect, settings_.version);
  out_.append(bytes.data(), bytes.size());
}

void Connection::queue_ack(const std::string& packet, std::uint16_t packet_id) {
  std::uint8_t* out = out_.extend(packet.size());
  std::memcpy(out, packet.data(), packet.size());
  out[2] = static_cast<std::uint8_t>(packet_id >> 8);
  out[3] = static_cast<std::uint8_t>(packet_id);
}

void Connection::handle(const codec::Packet& packet, std::uint64_t now) {
  using namespace codec;
  if (const auto* publish = std::get_if<Publish>(&packet)) {
    on_publish(*publish, now);
  } else if (const auto* puback = std::get_if<Puback>(&packet)) {
    on_ack(puback->packet_id, puback->reason_code, InflightWindow::Stage::await_puback, now);
  } else if (const auto* pubrec = std::get_if<Pubrec>(&packet)) {
    on_pubrec(*pubrec, now);
  } else if (const auto* pubcomp = std::get_if<Pubcomp>(&packet)) {
    on_ack(pubcomp->packet_id, pubcomp->reason_code, InflightWindow::Stage::await_pubcomp, now);
  } else if (const auto* pubrel = std::get_if<Pubrel>(&packet)) {
    queue_ack(settings_.templates.pubcomp, pubrel->packet_id);  // [MQTT-4.3.3-11]
  } else if (std::holds_alternative<Pingresp>(packet)) {
    // Keep-alive answered; nothing to do.
  } else if (const auto* connack = std::get_if<Connack>(&packet)) {
    on_connack(*connack, now);
  } else if (const auto* suback = std::get_if<Suback>(&packet)) {
    on_suback(*suback, now);
  } else if (const auto* disconnect = std::get_if<Disconnect>(&packet)) {
    fail(std::string("broker sent DISCONNECT: ") +
         std::string(to_string(disconnect->reason_code, PacketType::disconnect)));
  } else {
    fail(std::string("unexpected ") + std::string(to_string(type_of(packet))) + " from the broker");
  }
}

void Connection::on_connack(const codec::Connack& connack, std::uint64_t now) {
  if (state_ != State::mqtt_connecting) {
    fail("CONNACK twice [MQTT-3.2.0-2]");
    return;
  }
  if (codec::is_error(connack.reason_code)) {
    fail(std::string("CONNACK refused: ") + std::string(codec::to_string(connack.reason_code)));
    return;
  }
  const codec::Properties& p = connack.properties;
  if (p.receive_maximum) {
    // [MQTT-3.3.4-7] never more unacknowledged QoS 1/2 PUBLISH than the broker allows.
    window_.set_limit(std::min(settings_.inflight, *p.receive_maximum));
  }
  if (p.server_keep_alive) {
    keep_alive_ns_ = std::uint64_t{*p.server_keep_alive} * 1'000'000'000u;  // [MQTT-3.2.2-21]
  }
  if (spec_.role == Role::pub) {
    if (p.maximum_qos && static_cast<unsigned>(settings_.pub_qos) > *p.maximum_qos) {
      fail("the broker's Maximum QoS is " + std::to_string(*p.maximum_qos));  // [MQTT-3.2.2-11]
      return;
    }
    if (p.maximum_packet_size && publish_.size() > *p.maximum_packet_size) {
      fail("a PUBLISH of " + std::to_string(publish_.size()) +
           " bytes exceeds the broker's Maximum Packet Size of " +
           std::to_string(*p.maximum_packet_size));  // [MQTT-3.2.2-15]
      return;
    }
  }
  metrics_.connect_latency.record(now - started_ns_);
  if (spec_.role != Role::sub) {
    mark_ready(now);
    return;
  }
  codec::Subscribe subscribe{
      .packet_id = 1,
      .subscriptions = {{.filter = spec_.topic, .options = {.max_qos = settings_.sub_qos}}}};
  const std::string bytes = codec::encode_to_string(subscribe, settings_.version);
  out_.append(bytes.data(), bytes.size());
  state_ = State::subscribing;
}

void Connection::on_suback(const codec::Suback& suback, std::uint64_t now) {
  if (state_ != State::subscribing || suback.packet_id != 1 || suback.reason_codes.size() != 1) {
    fail("unexpected SUBACK");
    return;
  }
  if (codec::is_error(suback.reason_codes[0])) {
    fail("SUBACK refused '" + spec_.topic +
         "': " + std::string(codec::to_string(suback.reason_codes[0], codec::PacketType::suback)));
    return;
  }
  mark_ready(now);
}

void Connection::on_publish(const codec::Publish& publish, std::uint64_t now) {
  Counters& counters = metrics_.counters;
  counters.received.add();
  if (counters.first_recv_ns.load() == 0) counters.first_recv_ns.set(now);
  counters.last_recv_ns.set(now);
  if (publish.qos == codec::QoS::at_least_once) {
    queue_ack(settings_.templates.puback, publish.packet_id);  // [MQTT-4.3.2-4]
  } else if (publish.qos == codec::QoS::exactly_once) {
    queue_ack(settings_.templates.pubrec, publish.packet_id);  // [MQTT-4.3.3-9]
  }
  const std::optional<PayloadHeader> header = read_payload(publish.payload);
  if (!header) {
    counters.foreign.add();
    return;
  }
  if (header->sent_ns <= now) metrics_.latency.record(now - header->sent_ns);
  const StreamKey key{spec_.ordinal, header->run_id, header->publisher};
  auto stream = metrics_.streams.find(key);
  if (stream == metrics_.streams.end()) {
    // Only this run's own publishers are known to start after the subscription.
    const auto first = header->run_id == settings_.run_id ? settings_.stream_first
                                                          : std::optional<std::uint64_t>{};
    stream = metrics_.streams.emplace(key, SequenceTracker(first)).first;
  }
  stream->second.on_sequence(header->sequence);
}

void Connection::on_ack(std::uint16_t packet_id, codec::ReasonCode reason,
                        InflightWindow::Stage expected, std::uint64_t now) {
  if (window_.stage_of(packet_id) != expected) {
    metrics_.counters.errors.add();
    errors_.report(spec_.client_id, "acknowledgement for a packet identifier not in flight");
    return;
  }
  const std::uint64_t sent_ns = *window_.complete(packet_id);
  Counters& counters = metrics_.counters;
  counters.inflight.sub();
  counters.acked.add();
  if (codec::is_error(reason)) {
    counters.rejected.add();
  } else {
    metrics_.ack_latency.record(now - sent_ns);
  }
}

void Connection::on_pubrec(const codec::Pubrec& pubrec, std::uint64_t now) {
  if (window_.stage_of(pubrec.packet_id) != InflightWindow::Stage::await_pubrec) {
    metrics_.counters.errors.add();
    errors_.report(spec_.client_id, "PUBREC for a packet identifier not in flight");
    return;
  }
  if (codec::is_error(pubrec.reason_code)) {
    // A PUBREC with a failure code ends the exchange: no PUBREL follows [MQTT-4.3.3-4].
    on_ack(pubrec.packet_id, pubrec.reason_code, InflightWindow::Stage::await_pubrec, now);
    return;
  }
  window_.advance(pubrec.packet_id, InflightWindow::Stage::await_pubcomp);
  queue_ack(settings_.templates.pubrel, pubrec.packet_id);  // [MQTT-4.3.3-4]
}

}  // namespace cicada::bench
