// The broker's per-message hot paths, without sockets:
// - Router::publish to 1 and 100 subscribers spread over two workers (the fan-out
//   hand-off: match, merge, per-worker batches), with allocations per publish (the
//   Message aside, routing must allocate nothing in the steady state);
// - the hand-off between workers: batches of deliveries (one session, one message
//   each, as fan-in makes them) pushed into an Inbox by one thread and drained and
//   released by another, so the reference counts cross the cores as in the broker;
// - Session::deliver of QoS 0 and QoS 1 messages to an online session whose sink
//   encodes the PUBLISH header as a connection does (the subscriber side of fan-in).
//   cmake --preset release && cmake --build build/release --target broker_bench
//   build/release/bench/broker_bench
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <cicada/base/inbox.hpp>
#include <cicada/codec/encode.hpp>

#include "alloc_counter.hpp"
#include "broker/config/config.hpp"
#include "broker/core/delivery.hpp"
#include "broker/core/message.hpp"
#include "broker/core/router.hpp"
#include "broker/core/session.hpp"

namespace {

using namespace cicada::broker;
using cicada::codec::QoS;

MessagePtr make_message(QoS qos) {
  auto message = std::make_shared<Message>();
  const std::string topic = "bench/x";
  const std::string payload(64, '.');
  message->owner = cicada::SharedBuffer::copy_of(topic + payload);
  message->topic = message->owner.view(0, topic.size());
  message->payload = message->owner.view(topic.size(), payload.size());
  message->qos = qos;
  return message;
}

void BM_RouterFanOut(benchmark::State& state) {
  const auto subscribers = static_cast<std::uint32_t>(state.range(0));
  Config config;
  // The receiving side as a worker does it: take the deliveries, leave the vector.
  std::vector<Delivery> taken;
  Router router(config, 2, [&taken](std::uint32_t, std::vector<Delivery>&& batch) {
    for (Delivery& delivery : batch)
      taken.push_back(std::move(delivery));
  });
  std::vector<SessionHandlePtr> handles;
  for (std::uint32_t i = 0; i < subscribers; ++i) {
    auto claim = router.claim("sub-" + std::to_string(i), i % 2);
    router.subscribe("bench/+", {.subscriber = claim.handle->id(), .options = 1, .identifier = 0});
    handles.push_back(claim.handle);
  }
  const MessagePtr message = make_message(QoS::at_most_once);
  taken.reserve(subscribers);
  router.publish(message, 0);  // warm the per-thread scratch space
  taken.clear();
  std::size_t allocations = 0;
  for (auto _ : state) {
    allocations += cicada::testing::count_allocations([&] { router.publish(message, 0); });
    taken.clear();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * subscribers));
  state.counters["allocs/publish"] = benchmark::Counter(static_cast<double>(allocations) /
                                                        static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RouterFanOut)->Arg(1)->Arg(100);

// One producer (a publisher's worker) hands batches of `range(0)` deliveries to a
// consumer thread (the subscriber's worker), which drains its inbox and releases what
// it delivered. Each delivery holds the same session handle and a message of its own,
// so both reference counts are written on both cores, as in the broker's fan-in. The
// producer waits while more than 64k deliveries are queued, as a throttled worker does.
void BM_WorkerHandOff(benchmark::State& state) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  cicada::Inbox<std::vector<Delivery>> inbox;
  std::atomic<std::size_t> queued{0};
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    std::vector<std::vector<Delivery>> drained;
    while (true) {
      inbox.drain(drained);
      if (drained.empty()) {
        if (done.load(std::memory_order_acquire)) break;
        std::this_thread::yield();
        continue;
      }
      std::size_t delivered = 0;
      for (std::vector<Delivery>& batch : drained) {
        for (Delivery& delivery : batch)
          benchmark::DoNotOptimize(delivery.message->payload.data());
        delivered += batch.size();
        batch.clear();  // the references die here, on the consumer's core
      }
      queued.fetch_sub(delivered, std::memory_order_release);
    }
  });
  auto handle = std::make_shared<SessionHandle>("sub", 1);
  std::vector<MessagePtr> messages;
  for (int i = 0; i < 1024; ++i)
    messages.push_back(make_message(QoS::at_most_once));
  std::size_t next = 0;
  for (auto _ : state) {
    while (queued.load(std::memory_order_acquire) > 64 * 1024)
      std::this_thread::yield();
    std::vector<Delivery> batch;
    batch.reserve(batch_size);
    for (std::size_t i = 0; i < batch_size; ++i) {
      batch.push_back({handle, messages[next++ % messages.size()], DeliveryOptions{}});
    }
    queued.fetch_add(batch_size, std::memory_order_relaxed);
    inbox.push(std::move(batch));
  }
  while (queued.load(std::memory_order_acquire) != 0)
    std::this_thread::yield();
  done.store(true, std::memory_order_release);
  consumer.join();
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch_size));
}
BENCHMARK(BM_WorkerHandOff)->Arg(1)->Arg(64)->UseRealTime();

// Encodes each PUBLISH's header and copies its payload into one buffer, emptied now
// and then, as Connection::send_publish does between flushes.
class EncodingSink final : public SessionSink {
 public:
  SendResult send_publish(const cicada::codec::Publish& publish, const MessagePtr&) override {
    if (out_.size() > (1u << 20)) out_.clear();
    const std::size_t header =
        cicada::codec::publish_header_size(publish, cicada::codec::ProtocolVersion::v5);
    const std::size_t offset = out_.size();
    out_.resize(offset + header + publish.payload.size());
    auto* at = reinterpret_cast<std::uint8_t*>(out_.data()) + offset;
    cicada::codec::encode_publish_header(publish, cicada::codec::ProtocolVersion::v5, {at, header});
    std::copy(publish.payload.begin(), publish.payload.end(), at + header);
    return SendResult::sent;
  }
  void send_packet(const cicada::codec::Packet&) override {}

 private:
  std::string out_;
};

void BM_SessionDeliver(benchmark::State& state) {
  const auto qos = static_cast<QoS>(state.range(0));
  auto handle = std::make_shared<SessionHandle>("sub", 0);
  SessionEnv env;
  Session session(handle, env);
  EncodingSink sink;
  const TimePoint now = Clock::now();
  session.attach(sink, cicada::codec::ProtocolVersion::v5, 65535, now);
  const MessagePtr message = make_message(qos);
  std::uint16_t acked = 0;
  for (auto _ : state) {
    session.deliver(message, DeliveryOptions{.qos = qos}, now);
    // Acknowledge at once, so the in-flight window never fills.
    if (qos != QoS::at_most_once) session.on_puback(++acked == 0 ? ++acked : acked, now);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SessionDeliver)->Arg(0)->Arg(1);

}  // namespace
