// Private to the codec: one decoder per packet family, each reading a whole packet
// body. decode.cpp dispatches to them by packet type.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <cicada/base/expected.hpp>
#include <cicada/codec/error.hpp>
#include <cicada/codec/packets.hpp>

#include "wire.hpp"

namespace cicada::codec::detail {

using DecodeResult = Expected<Packet, DecodeError>;

DecodeResult decode_connect(std::string_view body);
DecodeResult decode_connack(std::string_view body, ProtocolVersion version);
DecodeResult decode_publish(std::uint8_t flags, std::string_view body, ProtocolVersion version);
// decode_publish into `out`, a default-constructed Publish, where the packet stays:
// nullopt when it decoded, the error otherwise (`out` then holds a part of it).
std::optional<DecodeError> decode_publish_into(std::uint8_t flags, std::string_view body,
                                               ProtocolVersion version, Publish& out);
// PUBACK, PUBREC, PUBREL, PUBCOMP.
DecodeResult decode_ack(PacketType type, std::string_view body, ProtocolVersion version);
DecodeResult decode_subscribe(std::string_view body, ProtocolVersion version);
DecodeResult decode_suback(std::string_view body, ProtocolVersion version);
DecodeResult decode_unsubscribe(std::string_view body, ProtocolVersion version);
DecodeResult decode_unsuback(std::string_view body, ProtocolVersion version);
DecodeResult decode_disconnect(std::string_view body, ProtocolVersion version);
DecodeResult decode_auth(std::string_view body);

// The packet, or the reader's first failure, or Malformed Packet when bytes are left
// over: the Remaining Length must agree with the content (MQTT 5.0 2.1.4).
template <class P>
DecodeResult finish(wire::Reader& reader, P&& packet) {
  if (reader.failed()) return unexpected(reader.error());
  if (!reader.at_end()) {
    return unexpected(DecodeError{ReasonCode::malformed_packet,
                                  "Remaining Length longer than the packet's contents"});
  }
  return Packet{std::forward<P>(packet)};
}

inline DecodeResult fail(ReasonCode code, std::string_view detail) {
  return unexpected(DecodeError{code, detail});
}

}  // namespace cicada::codec::detail
