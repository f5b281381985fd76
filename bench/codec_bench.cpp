// Parse and encode of a typical PUBLISH: 64-byte QoS 0 (the fan-out case) and QoS 1
// with a few MQTT 5 properties. Reports ns per packet and allocations per packet.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

#include "alloc_counter.hpp"

namespace {

using namespace cicada::codec;

std::string typical_publish(ProtocolVersion version, QoS qos, bool with_properties) {
  Publish publish;
  publish.topic = "sensors/building-7/floor-3/temperature";
  publish.qos = qos;
  publish.packet_id = qos == QoS::at_most_once ? 0 : 42;
  if (with_properties) {
    publish.properties.message_expiry_interval = 60;
    publish.properties.content_type = "application/json";
  }
  std::string payload(64, 'x');
  publish.payload = payload;
  return encode_to_string(publish, version);
}

constexpr int batch = 64;

// `batch` copies of the typical PUBLISH back to back, as a socket read would deliver them.
std::string publish_stream(ProtocolVersion version, QoS qos, bool with_properties) {
  std::string one = typical_publish(version, qos, with_properties);
  std::string stream;
  for (int i = 0; i < batch; ++i)
    stream += one;
  return stream;
}

// Feeds the stream and runs `drain` (which takes `batch` packets) once per iteration;
// reports packets per second and allocations per packet.
template <class Drain>
void parse_batches(benchmark::State& state, ProtocolVersion version, const std::string& stream,
                   Drain drain) {
  Parser parser({.max_packet_size = 1 << 20, .buffer_size = 64 * 1024, .version = version});
  std::size_t allocations = 0;
  for (auto _ : state) {
    parser.feed(stream);
    allocations += cicada::testing::count_allocations([&] { drain(parser); });
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["allocs/packet"] = benchmark::Counter(
      static_cast<double>(allocations) / static_cast<double>(state.iterations() * batch));
}

// Parses a batch of back-to-back PUBLISH packets with next().
void parse(benchmark::State& state, ProtocolVersion version, QoS qos, bool with_properties) {
  parse_batches(state, version, publish_stream(version, qos, with_properties), [](Parser& parser) {
    for (int i = 0; i < batch; ++i) {
      auto packet = parser.next();
      benchmark::DoNotOptimize(packet);
    }
  });
  state.counters["bytes/packet"] =
      static_cast<double>(typical_publish(version, qos, with_properties).size());
}

// The broker's way: the same batch through one reused slot (Parser::next_into), the
// PUBLISH decoded where it stays instead of moved through next()'s result.
void parse_into(benchmark::State& state, ProtocolVersion version, QoS qos, bool with_properties) {
  parse_batches(state, version, publish_stream(version, qos, with_properties), [](Parser& parser) {
    ParsedPacket slot;
    for (int i = 0; i < batch; ++i) {
      auto got = parser.next_into(slot);
      benchmark::DoNotOptimize(got);
      benchmark::DoNotOptimize(slot);
    }
  });
}

// A PUBACK as the broker sends one per QoS 1 PUBLISH it takes: size, then encode.
void encode_puback(benchmark::State& state, ProtocolVersion version) {
  const Packet ack = Puback{.packet_id = 42};
  std::vector<std::uint8_t> out(16);
  for (auto _ : state) {
    const std::size_t size = encoded_size(ack, version);
    encode(ack, version, {out.data(), size});
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void encode_header(benchmark::State& state, ProtocolVersion version, QoS qos,
                   bool with_properties) {
  std::string bytes = typical_publish(version, qos, with_properties);
  auto decoded = decode_packet(bytes, version);
  const Publish& publish = std::get<Publish>(*decoded);
  std::vector<std::uint8_t> out(publish_header_size(publish, version));
  std::size_t allocations = 0;
  for (auto _ : state) {
    allocations += cicada::testing::count_allocations(
        [&] { benchmark::DoNotOptimize(encode_publish_header(publish, version, out)); });
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs/packet"] = benchmark::Counter(static_cast<double>(allocations) /
                                                       static_cast<double>(state.iterations()));
}

BENCHMARK_CAPTURE(parse, v311_qos0_64B, ProtocolVersion::v3_1_1, QoS::at_most_once, false);
BENCHMARK_CAPTURE(parse, v5_qos0_64B, ProtocolVersion::v5, QoS::at_most_once, false);
BENCHMARK_CAPTURE(parse, v5_qos1_64B_props, ProtocolVersion::v5, QoS::at_least_once, true);
BENCHMARK_CAPTURE(parse_into, v311_qos0_64B, ProtocolVersion::v3_1_1, QoS::at_most_once, false);
BENCHMARK_CAPTURE(parse_into, v5_qos0_64B, ProtocolVersion::v5, QoS::at_most_once, false);
BENCHMARK_CAPTURE(parse_into, v5_qos1_64B_props, ProtocolVersion::v5, QoS::at_least_once, true);
BENCHMARK_CAPTURE(encode_puback, v311, ProtocolVersion::v3_1_1);
BENCHMARK_CAPTURE(encode_puback, v5, ProtocolVersion::v5);
BENCHMARK_CAPTURE(encode_header, v311_qos0_64B, ProtocolVersion::v3_1_1, QoS::at_most_once, false);
BENCHMARK_CAPTURE(encode_header, v5_qos1_64B_props, ProtocolVersion::v5, QoS::at_least_once, true);

}  // namespace
