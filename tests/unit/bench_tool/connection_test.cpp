// Connection against a scripted broker on a loopback socket: the CONNECT / SUBSCRIBE
// handshakes, QoS 1 and 2 flows in both directions, the broker's Receive Maximum, and
// the per-message paths allocating nothing.
#include "connection.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

#include "alloc_counter.hpp"
#include "clock.hpp"
#include "payload.hpp"

namespace cicada::bench {
namespace {

using namespace codec;

// The broker side: a blocking socket, the codec to read and write packets.
class FakeBroker {
 public:
  FakeBroker() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 8);
    std::memcpy(&address_.storage, &address, sizeof address);
    address_.size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address_.storage), &address_.size);
  }
  ~FakeBroker() {
    if (peer_ >= 0) ::close(peer_);
    ::close(listener_);
  }
  const SocketAddress& address() const { return address_; }
  void accept() { peer_ = ::accept(listener_, nullptr, nullptr); }
  void set_version(ProtocolVersion version) { parser_.set_version(version); }

  Packet receive() {
    while (true) {
      auto next = parser_.next();
      EXPECT_TRUE(next);
      if (next && next->has_value()) {
        held_ = std::move(**next);
        return held_.packet;
      }
      auto space = parser_.prepare(4096);
      const ssize_t n = ::recv(peer_, space.data(), space.size(), 0);
      if (n <= 0) return Disconnect{.reason_code = ReasonCode::unspecified_error};
      parser_.commit(static_cast<std::size_t>(n));
    }
  }
  void send(const Packet& packet, ProtocolVersion version = ProtocolVersion::v5) {
    const std::string bytes = encode_to_string(packet, version);
    ASSERT_EQ(::send(peer_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  void send_raw(const std::string& bytes) {
    ASSERT_EQ(::send(peer_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  void close_peer() {
    ::close(peer_);
    peer_ = -1;
  }
  // Reads whatever arrived without waiting, so the client's socket never fills.
  std::size_t drain() {
    static std::uint8_t sink[1 << 16];
    std::size_t total = 0;
    ssize_t n;
    while ((n = ::recv(peer_, sink, sizeof sink, MSG_DONTWAIT)) > 0)
      total += static_cast<std::size_t>(n);
    return total;
  }

 private:
  int listener_ = -1;
  int peer_ = -1;
  SocketAddress address_;
  Parser parser_{{.version = ProtocolVersion::v5}};
  ParsedPacket held_;
};

bool wait_readable(int fd) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 2000) == 1;
}

class ConnectionTest : public ::testing::Test {
 protected:
  ClientSettings settings(QoS qos, ProtocolVersion version = ProtocolVersion::v5) {
    ClientSettings s;
    s.broker = broker_.address();
    s.version = version;
    s.pub_qos = qos;
    s.sub_qos = qos;
    s.payload_size = 64;
    s.run_id = 1234;
    s.inflight = 16;
    s.stream_first = 0;
    s.templates = make_templates(version);
    broker_.set_version(version);
    return s;
  }

  // Runs the handshake up to CONNACK (and SUBACK for a subscriber).
  void connect(Connection& c, const Connack& connack = {},
               ProtocolVersion version = ProtocolVersion::v5) {
    ASSERT_TRUE(c.start(monotonic_ns()));
    broker_.accept();
    c.on_writable(monotonic_ns());
    c.flush(monotonic_ns());
    const Packet connect = broker_.receive();
    ASSERT_TRUE(std::holds_alternative<Connect>(connect));
    EXPECT_EQ(std::get<Connect>(connect).client_id, c.spec().client_id);
    broker_.send(connack, version);
    read(c);
    if (c.spec().role == Role::sub) {
      c.flush(monotonic_ns());
      const Packet subscribe = broker_.receive();
      ASSERT_TRUE(std::holds_alternative<Subscribe>(subscribe));
      EXPECT_EQ(std::get<Subscribe>(subscribe).subscriptions[0].filter, c.spec().topic);
      broker_.send(Suback{.packet_id = 1, .reason_codes = {ReasonCode::success}}, version);
      read(c);
    }
    ASSERT_EQ(c.state(), Connection::State::ready);
  }
  void read(Connection& c) {
    ASSERT_TRUE(wait_readable(c.fd()));
    c.on_readable();
  }

  FakeBroker broker_;
  WorkerMetrics metrics_;
  ErrorLog errors_{0};
};

TEST_F(ConnectionTest, QosOnePublishingHonoursReceiveMaximum) {
  const ClientSettings s = settings(QoS::at_least_once);
  Connection c(s, {.role = Role::pub, .index = 3, .client_id = "p3", .topic = "t/3"}, metrics_,
               errors_);
  Connack connack;
  connack.properties.receive_maximum = 2;
  connect(c, connack);
  EXPECT_EQ(c.publish(10, 1 << 20), 2u);  // the broker allows two in flight
  EXPECT_FALSE(c.can_publish());
  c.flush(monotonic_ns());
  for (int id : {1, 2}) {
    const Packet packet = broker_.receive();
    const auto& publish = std::get<Publish>(packet);
    EXPECT_EQ(publish.qos, QoS::at_least_once);
    EXPECT_EQ(publish.packet_id, id);
    EXPECT_EQ(publish.topic, "t/3");
    auto header = read_payload(publish.payload);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->sequence, static_cast<std::uint64_t>(id - 1));
    EXPECT_EQ(header->publisher, 3u);
    EXPECT_EQ(header->run_id, 1234u);
    EXPECT_EQ(publish.payload.size(), 64u);
  }
  broker_.send(Puback{.packet_id = 2});
  read(c);
  EXPECT_TRUE(c.can_publish());
  EXPECT_EQ(metrics_.counters.acked.load(), 1u);
  EXPECT_EQ(metrics_.counters.inflight.load(), 1u);
  EXPECT_EQ(metrics_.ack_latency.count(), 1u);
  EXPECT_EQ(c.publish(10, 1 << 20), 1u);
  c.flush(monotonic_ns());
  EXPECT_EQ(std::get<Publish>(broker_.receive()).packet_id, 3);
}

TEST_F(ConnectionTest, QosTwoPublishingRunsPubrecPubrelPubcomp) {
  const ClientSettings s = settings(QoS::exactly_once, ProtocolVersion::v3_1_1);
  Connection c(s, {.role = Role::pub, .client_id = "p", .topic = "t"}, metrics_, errors_);
  connect(c, {}, ProtocolVersion::v3_1_1);
  ASSERT_EQ(c.publish(1, 1 << 20), 1u);
  c.flush(monotonic_ns());
  const auto id = std::get<Publish>(broker_.receive()).packet_id;
  broker_.send(Pubrec{.packet_id = id}, ProtocolVersion::v3_1_1);
  read(c);
  c.flush(monotonic_ns());
  const Packet pubrel = broker_.receive();
  ASSERT_TRUE(std::holds_alternative<Pubrel>(pubrel));
  EXPECT_EQ(std::get<Pubrel>(pubrel).packet_id, id);
  EXPECT_EQ(metrics_.counters.inflight.load(), 1u);
  broker_.send(Pubcomp{.packet_id = id}, ProtocolVersion::v3_1_1);
  read(c);
  EXPECT_EQ(metrics_.counters.inflight.load(), 0u);
  EXPECT_EQ(metrics_.counters.acked.load(), 1u);
}

TEST_F(ConnectionTest, Mqtt31ConnectsAsMQIsdpLevel3AndPublishes) {
  const ClientSettings s = settings(QoS::at_least_once, ProtocolVersion::v3_1);
  Connection c(s, {.role = Role::pub, .client_id = "p31", .topic = "t"}, metrics_, errors_);
  ASSERT_TRUE(c.start(monotonic_ns()));
  broker_.accept();
  c.on_writable(monotonic_ns());
  c.flush(monotonic_ns());
  const Packet connect = broker_.receive();
  ASSERT_TRUE(std::holds_alternative<Connect>(connect));
  // The codec writes protocol name "MQIsdp" and level 3 for 3.1; the decoder reads
  // the version back from them.
  EXPECT_EQ(std::get<Connect>(connect).version, ProtocolVersion::v3_1);
  broker_.send(Connack{}, ProtocolVersion::v3_1);
  read(c);
  ASSERT_EQ(c.state(), Connection::State::ready);
  ASSERT_EQ(c.publish(1, 1 << 20), 1u);
  c.flush(monotonic_ns());
  const auto id = std::get<Publish>(broker_.receive()).packet_id;
  broker_.send(Puback{.packet_id = id}, ProtocolVersion::v3_1);
  read(c);
  EXPECT_EQ(metrics_.counters.acked.load(), 1u);
}

TEST_F(ConnectionTest, SubscriberAcknowledgesAndMeasures) {
  const ClientSettings s = settings(QoS::exactly_once);
  Connection c(s, {.role = Role::sub, .ordinal = 4, .client_id = "s", .topic = "t/+"}, metrics_,
               errors_);
  connect(c);
  std::vector<std::uint8_t> payload(48);
  write_payload(payload,
                {.run_id = 1234, .publisher = 9, .sequence = 0, .sent_ns = monotonic_ns()});
  const std::string_view bytes{reinterpret_cast<const char*>(payload.data()), payload.size()};
  broker_.send(
      Publish{.qos = QoS::at_least_once, .topic = "t/9", .packet_id = 7, .payload = bytes});
  patch_payload(payload.data(), 2, monotonic_ns());  // 1 is lost
  broker_.send(Publish{.qos = QoS::exactly_once, .topic = "t/9", .packet_id = 8, .payload = bytes});
  broker_.send(Publish{.topic = "t/9", .payload = "not a bench payload"});
  read(c);
  while (metrics_.counters.received.load() < 3)
    read(c);
  c.flush(monotonic_ns());
  EXPECT_EQ(std::get<Puback>(broker_.receive()).packet_id, 7);
  EXPECT_EQ(std::get<Pubrec>(broker_.receive()).packet_id, 8);
  broker_.send(Pubrel{.packet_id = 8});
  read(c);
  c.flush(monotonic_ns());
  EXPECT_EQ(std::get<Pubcomp>(broker_.receive()).packet_id, 8);

  EXPECT_EQ(metrics_.counters.foreign.load(), 1u);
  EXPECT_EQ(metrics_.latency.count(), 2u);
  const auto stream = metrics_.streams.find(StreamKey{4, 1234, 9});
  ASSERT_NE(stream, metrics_.streams.end());
  EXPECT_EQ(stream->second.unique(), 2u);
  EXPECT_EQ(stream->second.missing(), 1u);
}

TEST_F(ConnectionTest, ConnectPhaseRunsFromFirstAttemptToLastReady) {
  const ClientSettings s = settings(QoS::at_most_once);
  Connection idle(s, {.role = Role::conn, .client_id = "c"}, metrics_, errors_);
  const std::uint64_t before = monotonic_ns();
  connect(idle);
  const std::uint64_t first = metrics_.counters.first_connect_ns.load();
  const std::uint64_t ready = metrics_.counters.last_ready_ns.load();
  EXPECT_GE(first, before);
  EXPECT_GE(ready, first);
  EXPECT_LE(ready, monotonic_ns());
}

TEST_F(ConnectionTest, RefusedConnackCountsAsFailed) {
  const ClientSettings s = settings(QoS::at_most_once);
  Connection c(s, {.role = Role::conn, .client_id = "c"}, metrics_, errors_);
  ASSERT_TRUE(c.start(monotonic_ns()));
  broker_.accept();
  c.on_writable(monotonic_ns());
  c.flush(monotonic_ns());
  broker_.receive();
  broker_.send(Connack{.reason_code = ReasonCode::not_authorized});
  read(c);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(metrics_.counters.failed[role_index(Role::conn)].load(), 1u);
  EXPECT_EQ(metrics_.counters.errors.load(), 1u);
}

TEST_F(ConnectionTest, GracefulDisconnectSendsDisconnectAndWaitsForClose) {
  const ClientSettings s = settings(QoS::at_most_once);
  Connection c(s, {.role = Role::conn, .client_id = "c"}, metrics_, errors_);
  connect(c);
  c.disconnect(monotonic_ns());
  EXPECT_EQ(c.state(), Connection::State::disconnecting);
  c.flush(monotonic_ns());
  EXPECT_TRUE(std::holds_alternative<Disconnect>(broker_.receive()));
  broker_.close_peer();
  read(c);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(metrics_.counters.errors.load(), 0u);
  EXPECT_EQ(metrics_.counters.lost[role_index(Role::conn)].load(), 0u);
}

TEST_F(ConnectionTest, BrokerClosingALiveConnectionCountsAsLost) {
  const ClientSettings s = settings(QoS::at_most_once);
  Connection c(s, {.role = Role::pub, .client_id = "p", .topic = "t"}, metrics_, errors_);
  connect(c);
  broker_.close_peer();
  read(c);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(metrics_.counters.lost[role_index(Role::pub)].load(), 1u);
  EXPECT_EQ(metrics_.counters.publishers_finished.load(), 1u);
}

// The counter itself works, so the zeros below mean something.
TEST(AllocationCounter, SeesAllocations) {
  const std::size_t n = testing::count_allocations([] {
    int* volatile p = new int(1);
    delete p;
  });
  EXPECT_EQ(n, 1u);
}

class PublishAllocation : public ConnectionTest, public ::testing::WithParamInterface<QoS> {};

TEST_P(PublishAllocation, PublishingAllocatesNothing) {
  const QoS qos = GetParam();
  const ClientSettings s = settings(qos);
  Connection c(s, {.role = Role::pub, .client_id = "p", .topic = "bench/0"}, metrics_, errors_);
  connect(c);
  // Warm up: the output buffer grows to its working size once.
  c.publish(16, 1 << 16);
  c.flush(monotonic_ns());
  broker_.drain();
  if (qos != QoS::at_most_once) {
    for (std::uint16_t id = 1; id <= 16; ++id)
      broker_.send(Puback{.packet_id = id});
    while (metrics_.counters.acked.load() < 16)
      read(c);
  }
  std::size_t published = 0;
  const std::size_t allocations = testing::count_allocations([&] {
    // QoS 1: the window (16) allows one round until acknowledged.
    const int rounds = qos == QoS::at_most_once ? 200 : 1;
    for (int round = 0; round < rounds; ++round) {
      published += c.publish(16, 1 << 16);
      c.flush(monotonic_ns());
      broker_.drain();
    }
  });
  EXPECT_GE(published, 16u);
  EXPECT_EQ(allocations, 0u);
}

INSTANTIATE_TEST_SUITE_P(Qos, PublishAllocation,
                         ::testing::Values(QoS::at_most_once, QoS::at_least_once));

TEST_F(ConnectionTest, ReceivingAllocatesNothingOnceTheStreamIsKnown) {
  const ClientSettings s = settings(QoS::at_least_once);
  Connection c(s, {.role = Role::sub, .client_id = "s", .topic = "t"}, metrics_, errors_);
  connect(c);
  std::vector<std::uint8_t> payload(64);
  write_payload(payload, {.run_id = 1234, .publisher = 1});
  const auto batch = [&](std::uint64_t from, std::uint64_t count) {
    std::string bytes;
    for (std::uint64_t n = from; n < from + count; ++n) {
      patch_payload(payload.data(), n, monotonic_ns());
      bytes += encode_to_string(
          Publish{.qos = QoS::at_least_once,
                  .topic = "t",
                  .packet_id = static_cast<std::uint16_t>(n + 1),
                  .payload = {reinterpret_cast<const char*>(payload.data()), payload.size()}},
          ProtocolVersion::v5);
    }
    return bytes;
  };
  const auto receive = [&](std::uint64_t total) {
    while (metrics_.counters.received.load() < total)
      read(c);
    c.flush(monotonic_ns());
    broker_.drain();
  };
  // The first batch creates the stream and grows the output buffer for its PUBACKs.
  broker_.send_raw(batch(0, 50));
  receive(50);
  broker_.send_raw(batch(50, 50));
  const std::size_t allocations = testing::count_allocations([&] { receive(100); });
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(metrics_.latency.count(), 100u);
  EXPECT_EQ(metrics_.streams.begin()->second.unique(), 100u);
}

}  // namespace
}  // namespace cicada::bench
