// UTF-8 rules of MQTT (MQTT 5.0 section 1.5.4, MQTT 3.1.1 section 1.5.3).
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace cicada::codec {

// Well-formed UTF-8 as Unicode defines it (RFC 3629): no overlong forms, no
// surrogates (U+D800-U+DFFF), nothing above U+10FFFF [MQTT-1.5.4-1].
bool is_well_formed_utf8(std::string_view text) noexcept;

// A UTF-8 Encoded String field: well-formed and free of U+0000 [MQTT-1.5.4-1],
// [MQTT-1.5.4-2]. Other control characters and non-characters are allowed; the
// specification only says a sender SHOULD NOT use them [MQTT-1.5.4-3 note].
bool is_valid_mqtt_string(std::string_view text) noexcept;

}  // namespace cicada::codec
