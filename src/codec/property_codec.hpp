// Private to the codec: reading and writing a packet's property block (MQTT 5.0
// section 2.2.2: Property Length, then identifier/value pairs).
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include <cicada/codec/properties.hpp>

#include "wire.hpp"

namespace cicada::codec::detail {

// Reads Property Length and the properties that follow into `out`, validating each
// identifier against `context`, each value against its range and each non-repeatable
// identifier against repetition. Failures are recorded in `reader`.
void read_properties(wire::Reader& reader, PropertyContext context, Properties& out);

// Bytes of the properties themselves, without the Property Length prefix.
std::size_t properties_size(const Properties& properties) noexcept;

// Property Length + properties; `size` is properties_size(properties).
void write_properties(wire::Writer& writer, const Properties& properties,
                      std::size_t size) noexcept;

// Property Length prefix + properties.
inline std::size_t properties_wire_size(const Properties& properties) noexcept {
  std::size_t size = properties_size(properties);
  return wire::varint_size(static_cast<std::uint32_t>(size)) + size;
}

}  // namespace cicada::codec::detail
