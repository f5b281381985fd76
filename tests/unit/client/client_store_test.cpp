// The client with its file store against a scripted broker: messages in flight and
// queued when one Client goes away are sent by the next Client with the same client id
// (in flight first, same packet ids, DUP on a resumed session; PUBREL for QoS 2 past
// PUBREC), a damaged file is reported and skipped, and a stored message's Message
// Expiry Interval counts from when it was first queued, in the earlier process.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <cicada/client/client.hpp>

#include "client/store_record.hpp"
#include "fake_broker.hpp"

namespace cicada::client {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeBroker;
using testing::FakeConnection;

constexpr auto wait_limit = 10s;

struct TempDir {
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("cicada-client-store-" + std::to_string(rd()));
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::size_t files() const {
    std::size_t n = 0;
    for (const auto& entry : fs::recursive_directory_iterator(path))
      n += entry.is_regular_file() ? 1u : 0u;
    return n;
  }
  fs::path path;
};

ClientOptions stored_options(const FakeBroker& broker, const TempDir& dir) {
  ClientOptions options;
  options.servers = {broker.uri()};
  options.client_id = "store-unit";
  options.keep_alive = 0s;
  options.backoff = {50ms, 200ms, 100ms, 2.0};
  options.clean_start = false;
  options.session_expiry_interval = 3600;
  options.store.directory = dir.path.string();
  return options;
}

FakeConnection handshake(FakeBroker& broker, codec::Connack connack = {}) {
  auto conn = broker.accept();
  EXPECT_TRUE(conn.read_as<codec::Connect>().has_value());
  conn.write(connack);
  return conn;
}

template <class T>
bool ready(std::future<T>& future) {
  return future.wait_for(wait_limit) == std::future_status::ready;
}

TEST(ClientStore, InflightAndQueuedMessagesOutliveTheClient) {
  FakeBroker broker;
  TempDir dir;
  std::uint16_t inflight_id = 0;
  {
    Client client(stored_options(broker, dir));
    auto started = client.start();
    codec::Connack connack;
    connack.properties.receive_maximum = 1;  // the second message has to wait
    auto conn = handshake(broker, connack);
    ASSERT_TRUE(ready(started));
    auto a = client.publish({.topic = "s/a", .payload = "first", .qos = QoS::at_least_once});
    auto b = client.publish({.topic = "s/b", .payload = "second", .qos = QoS::at_least_once});
    auto publish = conn.read_as<codec::Publish>();
    ASSERT_TRUE(publish);
    EXPECT_EQ(publish->payload, "first");
    inflight_id = publish->packet_id;
    EXPECT_EQ(dir.files(), 2u);
    // Neither is acknowledged: the client goes away with both outstanding.
  }
  EXPECT_EQ(dir.files(), 2u) << "stopping keeps what the broker has not acknowledged";

  Client client(stored_options(broker, dir));
  auto started = client.start();
  auto conn = handshake(broker, codec::Connack{.session_present = true});
  auto resent = conn.read_as<codec::Publish>();
  ASSERT_TRUE(resent);
  EXPECT_EQ(resent->payload, "first");
  EXPECT_TRUE(resent->dup);  // [MQTT-4.4.0-1]
  EXPECT_EQ(resent->packet_id, inflight_id);
  conn.write(codec::Puback{.packet_id = inflight_id});
  auto queued = conn.read_as<codec::Publish>();
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->payload, "second");
  EXPECT_FALSE(queued->dup);
  EXPECT_EQ(queued->topic, "s/b");
  conn.write(codec::Puback{.packet_id = queued->packet_id});
  ASSERT_TRUE(ready(started));
  auto drained = client.drain();
  ASSERT_TRUE(ready(drained));
  EXPECT_EQ(dir.files(), 0u) << "acknowledged messages leave the store";
}

TEST(ClientStore, Qos2PastPubrecResumesWithPubrel) {
  FakeBroker broker;
  TempDir dir;
  std::uint16_t id = 0;
  {
    Client client(stored_options(broker, dir));
    auto started = client.start();
    auto conn = handshake(broker);
    ASSERT_TRUE(ready(started));
    auto done = client.publish({.topic = "q2", .payload = "once", .qos = QoS::exactly_once});
    auto publish = conn.read_as<codec::Publish>();
    ASSERT_TRUE(publish);
    id = publish->packet_id;
    conn.write(codec::Pubrec{.packet_id = id});
    ASSERT_TRUE(conn.read_as<codec::Pubrel>());
  }
  Client client(stored_options(broker, dir));
  auto started = client.start();
  auto conn = handshake(broker, codec::Connack{.session_present = true});
  auto pubrel = conn.read_as<codec::Pubrel>();
  ASSERT_TRUE(pubrel) << "the PUBREL state was stored; the message is not sent again";
  EXPECT_EQ(pubrel->packet_id, id);
  conn.write(codec::Pubcomp{.packet_id = id});
  ASSERT_TRUE(ready(started));
  auto drained = client.drain();
  ASSERT_TRUE(ready(drained));
  EXPECT_EQ(dir.files(), 0u);
}

TEST(ClientStore, QueuedOfflineThenSentAfterRestartWithoutSession) {
  // The broker is down for the first client: its messages only ever reach the disk.
  TempDir dir;
  FakeBroker broker;
  auto options = stored_options(broker, dir);
  options.servers = {"mqtt://127.0.0.1:1"};  // nothing listens there
  {
    Client client(options);
    auto started = client.start();
    for (int i = 0; i < 3; ++i)
      client.publish(
          {.topic = "off", .payload = "m" + std::to_string(i), .qos = QoS::at_least_once});
    // publish() has written the file before it returns.
    EXPECT_EQ(dir.files(), 3u);
  }
  options.servers = {broker.uri()};
  Client client(options);
  auto started = client.start();
  auto conn = handshake(broker, codec::Connack{.session_present = false});
  for (int i = 0; i < 3; ++i) {
    auto publish = conn.read_as<codec::Publish>();
    ASSERT_TRUE(publish);
    EXPECT_EQ(publish->payload, "m" + std::to_string(i));
    EXPECT_FALSE(publish->dup);
    conn.write(codec::Puback{.packet_id = publish->packet_id});
  }
  auto drained = client.drain();
  ASSERT_TRUE(ready(drained));
  EXPECT_EQ(dir.files(), 0u);
}

TEST(ClientStore, DamagedFileIsReportedAndTheRestSent) {
  TempDir dir;
  FakeBroker broker;
  auto options = stored_options(broker, dir);
  options.servers = {"mqtt://127.0.0.1:1"};
  {
    Client client(options);
    client.publish({.topic = "d", .payload = "good", .qos = QoS::at_least_once});
    client.publish({.topic = "d", .payload = std::string(50, 'b'), .qos = QoS::at_least_once});
  }
  // Cut the second file short, as a crash before the data reached the disk would.
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path))
    if (entry.is_regular_file()) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 2u);
  std::sort(files.begin(), files.end());
  fs::resize_file(files[1], 20);

  options.servers = {broker.uri()};
  Client client(options);
  std::mutex mutex;
  std::vector<std::string> problems;
  std::promise<void> reported;
  client.on_store_error([&](const std::string& text) {
    std::lock_guard lock(mutex);
    problems.push_back(text);
    reported.set_value();
  });
  auto started = client.start();
  auto conn = handshake(broker);
  auto publish = conn.read_as<codec::Publish>();
  ASSERT_TRUE(publish);
  EXPECT_EQ(publish->payload, "good");
  conn.write(codec::Puback{.packet_id = publish->packet_id});
  ASSERT_EQ(reported.get_future().wait_for(wait_limit), std::future_status::ready);
  std::lock_guard lock(mutex);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("truncated"), std::string::npos) << problems[0];
}

// A message file as an earlier process would have left it, queued `age` seconds ago.
void write_stored(const TempDir& dir, const std::string& name, const Message& m,
                  std::chrono::seconds age) {
  const fs::path client_dir = dir.path / "store-unit";
  fs::create_directories(client_dir);
  const auto queued = store::unix_seconds(std::chrono::system_clock::now() - age);
  std::ofstream(client_dir / name, std::ios::binary) << store::encode_record(m, queued);
}

Message expiring(std::string payload, std::uint32_t interval) {
  Message m{.topic = "exp", .payload = std::move(payload), .qos = QoS::at_least_once};
  m.properties.message_expiry_interval = interval;
  return m;
}

TEST(ClientStore, MessageExpiryCountsFromTheFirstQueueing) {
  TempDir dir;
  FakeBroker broker;
  // Queued 100 s ago by a process that was killed: a 10 s interval has run out, a
  // 3600 s one has about 3500 s left. The in-flight one had been sent already, so it
  // is re-sent like any resend whose interval ran out: with 1 s [MQTT-3.3.2-5].
  write_stored(dir, "0000000000000001.p5", expiring("sent-before", 10), 100s);
  write_stored(dir, "0000000000000002.q", expiring("too-old", 10), 100s);
  write_stored(dir, "0000000000000003.q", expiring("still-good", 3600), 100s);
  write_stored(dir, "0000000000000004.q", expiring("fresh", 3600), 0s);

  Client client(stored_options(broker, dir));
  std::mutex mutex;
  std::vector<std::string> problems;
  client.on_store_error([&](const std::string& text) {
    std::lock_guard lock(mutex);
    problems.push_back(text);
  });
  auto started = client.start();
  auto conn = handshake(broker, codec::Connack{.session_present = true});
  auto resent = conn.read_as<codec::Publish>();
  ASSERT_TRUE(resent);
  EXPECT_EQ(resent->payload, "sent-before");
  EXPECT_TRUE(resent->dup);
  EXPECT_EQ(resent->packet_id, 5);
  EXPECT_EQ(resent->properties.message_expiry_interval, 1u);
  conn.write(codec::Puback{.packet_id = 5});

  // [MQTT-3.3.2-6] what is left of the interval; 100 s of slack for a slow machine
  // between writing the files and sending them.
  auto good = conn.read_as<codec::Publish>();
  ASSERT_TRUE(good);
  EXPECT_EQ(good->payload, "still-good") << "the expired message must not be sent";
  ASSERT_TRUE(good->properties.message_expiry_interval);
  EXPECT_LE(*good->properties.message_expiry_interval, 3500u);
  EXPECT_GE(*good->properties.message_expiry_interval, 3400u);
  conn.write(codec::Puback{.packet_id = good->packet_id});
  auto fresh = conn.read_as<codec::Publish>();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->payload, "fresh");
  ASSERT_TRUE(fresh->properties.message_expiry_interval);
  EXPECT_GT(*fresh->properties.message_expiry_interval, 3500u);
  conn.write(codec::Puback{.packet_id = fresh->packet_id});

  ASSERT_TRUE(ready(started));
  auto drained = client.drain();
  ASSERT_TRUE(ready(drained));
  EXPECT_EQ(dir.files(), 0u) << "the expired message's file is gone too";
  // Reported on the callback thread, after the drop that the drain waited for.
  const auto deadline = std::chrono::steady_clock::now() + wait_limit;
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (!problems.empty() || std::chrono::steady_clock::now() > deadline) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("0000000000000002.q"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("expired"), std::string::npos) << problems[0];
}

TEST(ClientStore, ExpiredInflightMessageIsDroppedWhenTheSessionIsGone) {
  // The broker kept no session, so what was in flight would go out as a new message:
  // with its interval over it is dropped like a queued one, and reported.
  TempDir dir;
  FakeBroker broker;
  write_stored(dir, "0000000000000001.p5", expiring("sent-before", 10), 100s);
  write_stored(dir, "0000000000000002.p6", expiring("sent-lately", 3600), 100s);
  Client client(stored_options(broker, dir));
  std::promise<std::string> reported;
  client.on_store_error([&](const std::string& text) { reported.set_value(text); });
  auto started = client.start();
  auto conn = handshake(broker, codec::Connack{.session_present = false});
  auto resent = conn.read_as<codec::Publish>();
  ASSERT_TRUE(resent);
  EXPECT_EQ(resent->payload, "sent-lately");
  EXPECT_FALSE(resent->dup);
  ASSERT_TRUE(resent->properties.message_expiry_interval);
  EXPECT_LE(*resent->properties.message_expiry_interval, 3500u);
  conn.write(codec::Puback{.packet_id = resent->packet_id});
  auto text = reported.get_future();
  ASSERT_EQ(text.wait_for(wait_limit), std::future_status::ready);
  const std::string problem = text.get();
  EXPECT_NE(problem.find("0000000000000001.p5"), std::string::npos) << problem;
  EXPECT_NE(problem.find("expired"), std::string::npos) << problem;
  auto drained = client.drain();
  ASSERT_TRUE(ready(drained));
  EXPECT_EQ(dir.files(), 0u);
}

TEST(ClientStore, NeedsAPersistentSession) {
  TempDir dir;
  FakeBroker broker;
  auto options = stored_options(broker, dir);
  options.clean_start = true;
  {
    Client client(options);
    auto r = client.start().get();
    EXPECT_EQ(r.error.kind, ErrorKind::invalid_argument);
    EXPECT_NE(r.error.message.find("clean_start"), std::string::npos) << r.error.message;
  }
  options.clean_start = false;
  options.session_expiry_interval = 0;
  Client client(options);
  auto r = client.start().get();
  EXPECT_EQ(r.error.kind, ErrorKind::invalid_argument);
  EXPECT_NE(r.error.message.find("session_expiry_interval"), std::string::npos);
}

TEST(ClientStore, FullStoreRefusesThePublish) {
  TempDir dir;
  FakeBroker broker;
  auto options = stored_options(broker, dir);
  options.servers = {"mqtt://127.0.0.1:1"};
  options.store.max_bytes = 300;
  Client client(options);
  auto first =
      client.publish({.topic = "f", .payload = std::string(200, 'x'), .qos = QoS::at_least_once});
  auto second =
      client.publish({.topic = "f", .payload = std::string(200, 'x'), .qos = QoS::at_least_once});
  ASSERT_TRUE(ready(second));
  auto result = second.get();
  EXPECT_EQ(result.error.kind, ErrorKind::queue_full);
  EXPECT_NE(result.error.message.find("file store full"), std::string::npos);
  EXPECT_EQ(dir.files(), 1u);
}

}  // namespace
}  // namespace cicada::client
