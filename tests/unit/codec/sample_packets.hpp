// Packets for codec tests: for every packet type and protocol version, one plain and
// one carrying every field and every property the type allows.
#pragma once

#include <string>
#include <vector>

#include <cicada/codec/packets.hpp>

namespace cicada::codec::testing {

// Every property allowed in `context`, with distinctive values; repeatable ones twice.
Properties every_property(PropertyContext context);

struct Sample {
  std::string name;
  ProtocolVersion version;
  Packet packet;
};

// All samples for `version`: each packet type that exists in that version, plain and
// (for 5.0) with every property.
std::vector<Sample> samples(ProtocolVersion version);

}  // namespace cicada::codec::testing
