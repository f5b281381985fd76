// Packet encoding. Each packet's layout is written once, as a function template over
// a sink: the Counter sink measures it (for the Remaining Length and buffer sizes) and
// the Writer sink writes it, so the two can never disagree.
#include <cassert>

#include <cicada/codec/encode.hpp>

#include "property_codec.hpp"
#include "wire.hpp"

namespace cicada::codec {
namespace {

class Counter {
 public:
  std::size_t written() const noexcept { return size_; }
  void u8(std::uint8_t) noexcept { size_ += 1; }
  void u16(std::uint16_t) noexcept { size_ += 2; }
  void u32(std::uint32_t) noexcept { size_ += 4; }
  void varint(std::uint32_t value) noexcept { size_ += wire::varint_size(value); }
  void raw(std::string_view bytes) noexcept { size_ += bytes.size(); }
  void binary(std::string_view bytes) noexcept { size_ += 2 + bytes.size(); }
  void add(std::size_t size) noexcept { size_ += size; }

 private:
  std::size_t size_ = 0;
};

void emit_properties(Counter& sink, const Properties& properties) {
  sink.add(detail::properties_wire_size(properties));
}
void emit_properties(wire::Writer& sink, const Properties& properties) {
  detail::write_properties(sink, properties, detail::properties_size(properties));
}

bool is_v5(ProtocolVersion version) {
  return version == ProtocolVersion::v5;
}

template <class Sink>
void emit(Sink& s, const Connect& c, ProtocolVersion) {
  const bool v5 = is_v5(c.version);
  // MQTT 3.1 names the protocol "MQIsdp" (level 3); 3.1.1 and 5.0 "MQTT" [MQTT-3.1.2-1].
  s.binary(c.version == ProtocolVersion::v3_1 ? "MQIsdp" : "MQTT");
  s.u8(static_cast<std::uint8_t>(c.version));
  std::uint8_t flags = 0;
  if (c.clean_start) flags |= 0x02;
  if (c.will) {
    flags |= 0x04;
    flags |= static_cast<std::uint8_t>(static_cast<unsigned>(c.will->qos) << 3);
    if (c.will->retain) flags |= 0x20;
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  s.u8(flags);
  s.u16(c.keep_alive);
  if (v5) emit_properties(s, c.properties);
  s.binary(c.client_id);
  if (c.will) {
    if (v5) emit_properties(s, c.will->properties);
    s.binary(c.will->topic);
    s.binary(c.will->payload);
  }
  if (c.username) s.binary(*c.username);
  if (c.password) s.binary(*c.password);
}

template <class Sink>
void emit(Sink& s, const Connack& c, ProtocolVersion version) {
  s.u8(c.session_present ? 1 : 0);
  if (is_v5(version)) {
    s.u8(static_cast<std::uint8_t>(c.reason_code));
    emit_properties(s, c.properties);
  } else {
    s.u8(static_cast<std::uint8_t>(to_connect_return_code(c.reason_code)));
  }
}

template <class Sink>
void emit(Sink& s, const Publish& p, ProtocolVersion version, bool with_payload = true) {
  s.binary(p.topic);
  if (p.qos != QoS::at_most_once) s.u16(p.packet_id);
  if (is_v5(version)) emit_properties(s, p.properties);
  if (with_payload) s.raw(p.payload);
}

// MQTT 5.0 3.4.2.1 (and 3.5-3.7, 3.14, 3.15): the Reason Code and the Property Length
// may be left out when the reason is Success and there are no properties, and the
// Property Length alone when there are no properties. Cicada leaves out what it may,
// unless a decoded packet's layout records that its sender wrote them.
template <class Sink>
void emit_reason_and_properties(Sink& s, ReasonCode code, const Properties& properties) {
  const bool write_properties = properties.layout.length_present || !properties.empty();
  if (code == ReasonCode::success && !write_properties && !properties.layout.reason_present) {
    return;
  }
  s.u8(static_cast<std::uint8_t>(code));
  if (write_properties) emit_properties(s, properties);
}

template <class Sink, PacketType Type>
void emit(Sink& s, const Ack<Type>& a, ProtocolVersion version) {
  s.u16(a.packet_id);
  if (is_v5(version)) emit_reason_and_properties(s, a.reason_code, a.properties);
}

template <class Sink>
void emit(Sink& s, const Subscribe& sub, ProtocolVersion version) {
  s.u16(sub.packet_id);
  const bool v5 = is_v5(version);
  if (v5) emit_properties(s, sub.properties);
  for (const Subscription& entry : sub.subscriptions) {
    s.binary(entry.filter);
    auto options = static_cast<std::uint8_t>(entry.options.max_qos);
    if (v5) {
      if (entry.options.no_local) options |= 0x04;
      if (entry.options.retain_as_published) options |= 0x08;
      options |=
          static_cast<std::uint8_t>(static_cast<unsigned>(entry.options.retain_handling) << 4);
    }
    s.u8(options);
  }
}

template <class Sink>
void emit(Sink& s, const Suback& a, ProtocolVersion version) {
  s.u16(a.packet_id);
  if (is_v5(version)) emit_properties(s, a.properties);
  for (ReasonCode code : a.reason_codes)
    s.u8(static_cast<std::uint8_t>(code));
}

template <class Sink>
void emit(Sink& s, const Unsubscribe& u, ProtocolVersion version) {
  s.u16(u.packet_id);
  if (is_v5(version)) emit_properties(s, u.properties);
  for (std::string_view filter : u.filters)
    s.binary(filter);
}

template <class Sink>
void emit(Sink& s, const Unsuback& a, ProtocolVersion version) {
  s.u16(a.packet_id);
  if (!is_v5(version)) return;  // MQTT 3.1.1 3.11: Packet Identifier only
  emit_properties(s, a.properties);
  for (ReasonCode code : a.reason_codes)
    s.u8(static_cast<std::uint8_t>(code));
}

template <class Sink>
void emit(Sink&, const Pingreq&, ProtocolVersion) {}
template <class Sink>
void emit(Sink&, const Pingresp&, ProtocolVersion) {}

template <class Sink>
void emit(Sink& s, const Disconnect& d, ProtocolVersion version) {
  if (is_v5(version)) emit_reason_and_properties(s, d.reason_code, d.properties);
}

template <class Sink>
void emit(Sink& s, const Auth& a, ProtocolVersion version) {
  assert(is_v5(version) && "AUTH exists only in MQTT 5");
  (void)version;
  emit_reason_and_properties(s, a.reason_code, a.properties);
}

std::uint8_t publish_first_byte(const Publish& p) {
  return static_cast<std::uint8_t>(0x30 | (p.dup ? 0x08 : 0) | (static_cast<unsigned>(p.qos) << 1) |
                                   (p.retain ? 0x01 : 0));
}

std::uint8_t first_byte(const Packet& packet) {
  if (const auto* p = std::get_if<Publish>(&packet)) return publish_first_byte(*p);
  auto type = static_cast<std::uint8_t>(type_of(packet));
  std::uint8_t flags = 0;
  if (std::holds_alternative<Pubrel>(packet) || std::holds_alternative<Subscribe>(packet) ||
      std::holds_alternative<Unsubscribe>(packet)) {
    flags = 0x02;  // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1]
  }
  return static_cast<std::uint8_t>((type << 4) | flags);
}

std::size_t body_size(const Packet& packet, ProtocolVersion version) {
  Counter counter;
  std::visit([&](const auto& p) { emit(counter, p, version); }, packet);
  return counter.written();
}

std::size_t whole_size(std::size_t body) {
  assert(body <= max_varint && "packet larger than a Remaining Length can describe");
  return 1 + wire::varint_size(static_cast<std::uint32_t>(body)) + body;
}

}  // namespace

std::size_t encoded_size(const Packet& packet, ProtocolVersion version) {
  return whole_size(body_size(packet, version));
}

std::size_t encode(const Packet& packet, ProtocolVersion version, std::span<std::uint8_t> out) {
  std::size_t body = body_size(packet, version);
  assert(out.size() >= whole_size(body));
  wire::Writer writer(out);
  writer.u8(first_byte(packet));
  writer.varint(static_cast<std::uint32_t>(body));
  std::visit([&](const auto& p) { emit(writer, p, version); }, packet);
  return writer.written();
}

std::string encode_to_string(const Packet& packet, ProtocolVersion version) {
  std::string out(encoded_size(packet, version), '\0');
  std::size_t written =
      encode(packet, version, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()});
  out.resize(written);
  return out;
}

std::size_t publish_header_size(const Publish& publish, ProtocolVersion version) {
  Counter counter;
  emit(counter, publish, version, false);
  std::size_t body = counter.written() + publish.payload.size();
  return whole_size(body) - publish.payload.size();
}

std::size_t encode_publish_header(const Publish& publish, ProtocolVersion version,
                                  std::span<std::uint8_t> out) {
  Counter counter;
  emit(counter, publish, version, false);
  std::size_t body = counter.written() + publish.payload.size();
  wire::Writer writer(out);
  writer.u8(publish_first_byte(publish));
  writer.varint(static_cast<std::uint32_t>(body));
  emit(writer, publish, version, false);
  return writer.written();
}

}  // namespace cicada::codec
