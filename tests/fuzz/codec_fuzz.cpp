// libFuzzer target for the incremental parser and the encoder.
// Input: one selector byte, then the stream. Selector bits 0-1 pick the protocol
// version (0: 3.1, 1: 3.1.1, 2/3: 5.0), bits 2-5 the chunk size the stream is fed in
// (1-16 bytes), bit 6 a small maximum packet size.
// Invariants checked (a violation aborts):
//  - feeding the stream whole or in chunks yields the same packets and the same error;
//  - every decoded packet re-encodes to exactly encoded_size() bytes, and those bytes
//    decode to an equal packet.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <cicada/codec/decode.hpp>
#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

namespace {

using namespace cicada::codec;

struct Outcome {
  std::vector<std::string> encodings;  // re-encoded packets, in order
  std::optional<DecodeError> error;
};

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void check_round_trip(const Packet& packet, ProtocolVersion version, Outcome& outcome) {
  std::string bytes = encode_to_string(packet, version);
  if (bytes.size() != encoded_size(packet, version)) violated("encoded_size disagrees with encode");
  auto again = decode_packet(bytes, version);
  if (!again) violated("re-encoded packet does not decode");
  if (!(*again == packet)) violated("re-encoded packet decodes to a different packet");
  outcome.encodings.push_back(std::move(bytes));
}

Outcome run(std::string_view stream, ParserOptions options, std::size_t chunk) {
  Parser parser(options);
  Outcome outcome;
  std::size_t offset = 0;
  while (true) {
    auto next = parser.next();
    if (!next) {
      outcome.error = next.error();
      return outcome;
    }
    if (next->has_value()) {
      // The version the packet was decoded with: a CONNECT carries its own.
      const auto& parsed = **next;
      ProtocolVersion version = parser.version();
      check_round_trip(parsed.packet, version, outcome);
      continue;
    }
    if (offset >= stream.size()) return outcome;
    std::size_t size = std::min(chunk, stream.size() - offset);
    parser.feed(stream.substr(offset, size));
    offset += size;
    if (parser.buffered() == 0) parser.release_if_idle();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  const ProtocolVersion versions[] = {ProtocolVersion::v3_1, ProtocolVersion::v3_1_1,
                                      ProtocolVersion::v5, ProtocolVersion::v5};
  ParserOptions options;
  options.version = versions[selector & 0x03];
  options.max_packet_size = (selector & 0x40) ? 64 : 1 << 20;
  options.buffer_size = 32;
  const std::size_t chunk = 1 + ((selector >> 2) & 0x0F);
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  Outcome whole = run(stream, options, stream.size() + 1);
  Outcome chunked = run(stream, options, chunk);
  if (whole.encodings != chunked.encodings) violated("chunked feed yields other packets");
  if (whole.error != chunked.error) violated("chunked feed yields another error");
  return 0;
}
