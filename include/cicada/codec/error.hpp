// DecodeError: why bytes could not be decoded, as the reason code the specification
// asks the receiver to report (MQTT 5.0 section 4.13) and a static description that
// names the statement broken, for logs and Reason String properties.
// Thread-safety: plain value.
#pragma once

#include <string_view>

#include <cicada/codec/reason_code.hpp>

namespace cicada::codec {

struct DecodeError {
  ReasonCode code = ReasonCode::malformed_packet;
  std::string_view detail;  // static storage, e.g. "[MQTT-3.3.1-4] PUBLISH with QoS 3"
  bool operator==(const DecodeError&) const = default;
};

}  // namespace cicada::codec
