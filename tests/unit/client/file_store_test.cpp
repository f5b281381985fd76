// The client's file store on its own: record encoding (with the time a message was
// first queued, and records from before that time was kept), state kept in file names,
// reopening, and crash leftovers (a truncated or damaged file, an unfinished .tmp)
// skipped with a clear problem instead of a crash or a wrong message.
#include "client/file_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "client/store_record.hpp"

namespace cicada::client {
namespace {

namespace fs = std::filesystem;

// Any fixed wall-clock time (2027-01-15): the tests never compare it with the clock.
constexpr std::uint64_t queued_at = 1'800'000'000;

Message full_message() {
  Message m{.topic = "a/b",
            .payload = std::string("pay\0load", 8),
            .qos = QoS::exactly_once,
            .retain = true};
  m.properties.payload_format_indicator = 1;
  m.properties.message_expiry_interval = 60;
  m.properties.content_type = "text/plain";
  m.properties.response_topic = "reply/to";
  m.properties.correlation_data = std::string("\x01\x02", 2);
  m.properties.user_properties = {{"k", "v"}, {"k", "w"}};
  return m;
}

struct TempDir {
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("cicada-store-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(StoreRecord, RoundTripsEveryField) {
  const Message m = full_message();
  auto decoded = store::decode_record(store::encode_record(m, queued_at));
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded->message.topic, m.topic);
  EXPECT_EQ(decoded->message.payload, m.payload);
  EXPECT_EQ(decoded->message.qos, m.qos);
  EXPECT_TRUE(decoded->message.retain);
  EXPECT_EQ(decoded->message.properties.payload_format_indicator, 1);
  EXPECT_EQ(decoded->message.properties.message_expiry_interval, 60u);
  EXPECT_EQ(decoded->message.properties.content_type, "text/plain");
  EXPECT_EQ(decoded->message.properties.response_topic, "reply/to");
  EXPECT_EQ(decoded->message.properties.correlation_data, std::string("\x01\x02", 2));
  EXPECT_EQ(decoded->message.properties.user_properties, m.properties.user_properties);
  EXPECT_EQ(decoded->queued_at, queued_at);

  Message plain{.topic = "t", .payload = "", .qos = QoS::at_least_once};
  auto minimal = store::decode_record(store::encode_record(plain, queued_at));
  ASSERT_TRUE(minimal) << minimal.error();
  EXPECT_FALSE(minimal->message.retain);
  EXPECT_FALSE(minimal->message.properties.content_type);
  EXPECT_TRUE(minimal->message.properties.user_properties.empty());
}

// A record as the store wrote it before it kept the queue time (CCDAMSG1): the
// CCDAMSG2 body without its leading 8-byte time, with its own length and checksum.
std::string version_1_record(const Message& m) {
  const std::string v2 = store::encode_record(m, queued_at);
  const std::size_t header = store::record_magic.size() + 4;
  const std::string body = v2.substr(header + 8, v2.size() - header - 8 - 4);
  auto u32 = [](std::uint32_t v) {
    std::string out;
    for (unsigned i = 0; i < 4; ++i)
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return out;
  };
  return std::string(store::record_magic_v1) + u32(static_cast<std::uint32_t>(body.size())) + body +
         u32(store::crc32(body));
}

TEST(StoreRecord, KeepsTheQueueTimeLittleEndianAtTheStartOfTheBody) {
  const std::string bytes = store::encode_record(full_message(), 0x0102030405060708u);
  EXPECT_EQ(bytes.substr(0, 8), "CCDAMSG2");
  EXPECT_EQ(bytes.substr(12, 8), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  auto decoded = store::decode_record(bytes);
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded->queued_at, 0x0102030405060708u);
}

TEST(StoreRecord, VersionOneRecordsStillDecodeWithoutAQueueTime) {
  const Message m = full_message();
  const std::string old = version_1_record(m);
  auto decoded = store::decode_record(old);
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_FALSE(decoded->queued_at);
  EXPECT_EQ(decoded->message.topic, m.topic);
  EXPECT_EQ(decoded->message.payload, m.payload);
  EXPECT_EQ(decoded->message.properties.message_expiry_interval, 60u);
  EXPECT_EQ(decoded->message.properties.user_properties, m.properties.user_properties);
  // The magic says which layout the body has: a v1 body under the v2 magic (or the
  // reverse) is refused, not misread.
  std::string relabelled = old;
  relabelled.replace(0, 8, store::record_magic);
  EXPECT_FALSE(store::decode_record(relabelled));
  std::string other = old;
  other.replace(0, 8, "CCDAMSG3");
  auto refused = store::decode_record(other);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("bad magic"), std::string::npos) << refused.error();
}

TEST(StoreRecord, SecondsWaited) {
  EXPECT_EQ(store::seconds_waited(std::nullopt, 1000), 0u);  // v1 record: from the load
  EXPECT_EQ(store::seconds_waited(900, 1000), 100u);
  EXPECT_EQ(store::seconds_waited(1000, 1000), 0u);
  EXPECT_EQ(store::seconds_waited(5000, 1000), 0u);  // clock set back since
  EXPECT_EQ(store::unix_seconds(std::chrono::system_clock::time_point{} + std::chrono::seconds(42)),
            42u);
}

TEST(StoreRecord, EveryTruncationIsAnError) {
  // A crash can cut a file at any byte: each prefix must be refused, none accepted.
  const std::string bytes = store::encode_record(full_message(), queued_at);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = store::decode_record(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(decoded) << "prefix of " << n << " bytes accepted";
  }
  auto cut = store::decode_record(std::string_view(bytes).substr(0, bytes.size() - 3));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().find("truncated"), std::string::npos) << cut.error();
}

TEST(StoreRecord, DamageIsCaughtByTheChecksum) {
  std::string bytes = store::encode_record(full_message(), queued_at);
  bytes[store::record_magic.size() + 4 + 5] ^= 0x20;  // inside the topic
  auto decoded = store::decode_record(bytes);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error(), "checksum mismatch");
  EXPECT_FALSE(store::decode_record("not a message file"));
  EXPECT_EQ(store::crc32("123456789"), 0xCBF43926u);  // the standard check value
}

TEST(StoreRecord, EverySingleByteFlipIsRefused) {
  // Damage anywhere (magic, length, body, checksum) must never decode to a message,
  // in either version.
  for (const std::string& bytes :
       {store::encode_record(full_message(), queued_at), version_1_record(full_message())})
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (unsigned mask : {0x01u, 0x80u}) {
        std::string damaged = bytes;
        damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ mask);
        ASSERT_FALSE(store::decode_record(damaged)) << "flip at byte " << i << " accepted";
      }
    }
}

TEST(FileStore, StatesSurviveReopeningInPublishOrder) {
  TempDir dir;
  FileStoreOptions options{.directory = dir.path.string()};
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  std::uint64_t third = 0;
  {
    FileStore::Loaded loaded;
    auto store = FileStore::open(options, "client/1", loaded);
    ASSERT_TRUE(store) << store.error();
    EXPECT_TRUE(loaded.messages.empty());
    EXPECT_EQ((*store)->directory(), (dir.path / "client%2F1").string());
    first =
        *(*store)->add({.topic = "t/1", .payload = "one", .qos = QoS::at_least_once}, queued_at);
    second =
        *(*store)->add({.topic = "t/2", .payload = "two", .qos = QoS::exactly_once}, queued_at);
    third =
        *(*store)->add({.topic = "t/3", .payload = "three", .qos = QoS::at_least_once}, queued_at);
    ASSERT_TRUE((*store)->sent(first, 0, 7));
    ASSERT_TRUE((*store)->sent(second, 0, 8));
    ASSERT_TRUE((*store)->released(second, 8));
    EXPECT_GT((*store)->bytes(), 0u);
  }
  FileStore::Loaded loaded;
  auto store = FileStore::open(options, "client/1", loaded);
  ASSERT_TRUE(store) << store.error();
  EXPECT_TRUE(loaded.problems.empty());
  ASSERT_EQ(loaded.messages.size(), 3u);
  EXPECT_EQ(loaded.messages[0].key, first);
  EXPECT_EQ(loaded.messages[0].packet_id, 7);
  EXPECT_FALSE(loaded.messages[0].released);
  EXPECT_EQ(loaded.messages[0].message.payload, "one");
  EXPECT_EQ(loaded.messages[1].packet_id, 8);
  EXPECT_TRUE(loaded.messages[1].released);
  EXPECT_EQ(loaded.messages[2].packet_id, 0);
  EXPECT_EQ(loaded.messages[2].message.topic, "t/3");
  for (const auto& m : loaded.messages)
    EXPECT_EQ(m.queued_at, queued_at);
  // New keys continue after the loaded ones, so order stays publish order.
  auto next =
      (*store)->add({.topic = "t/4", .payload = "four", .qos = QoS::at_least_once}, queued_at);
  ASSERT_TRUE(next);
  EXPECT_GT(*next, third);
  for (const auto& m : loaded.messages)
    ASSERT_TRUE((*store)->remove(m.key, m.packet_id, m.released, FileStore::charge(m.message)));
  ASSERT_TRUE((*store)->remove(*next, 0, false, 0));
  EXPECT_TRUE(names_in((*store)->directory()).empty());
}

TEST(FileStore, TruncatedFileIsSkippedAndReported) {
  // Crash simulation: one message file cut short (a power loss after a write that was
  // not fsynced), one .tmp left by a write the process never finished.
  TempDir dir;
  FileStoreOptions options{.directory = dir.path.string()};
  std::string victim;
  {
    FileStore::Loaded loaded;
    auto store = FileStore::open(options, "c", loaded);
    ASSERT_TRUE(store);
    ASSERT_TRUE(
        (*store)->add({.topic = "ok/1", .payload = "a", .qos = QoS::at_least_once}, queued_at));
    auto cut = (*store)->add(
        {.topic = "cut", .payload = std::string(100, 'x'), .qos = QoS::at_least_once}, queued_at);
    ASSERT_TRUE(cut);
    ASSERT_TRUE(
        (*store)->add({.topic = "ok/2", .payload = "b", .qos = QoS::at_least_once}, queued_at));
    victim = (*store)->directory() + "/" + FileStore::file_name(*cut, 0, false);
    fs::resize_file(victim, 40);
    std::ofstream((*store)->directory() + "/00000000000000ff.tmp") << "half";
  }
  FileStore::Loaded loaded;
  auto store = FileStore::open(options, "c", loaded);
  ASSERT_TRUE(store) << store.error();
  ASSERT_EQ(loaded.messages.size(), 2u);
  EXPECT_EQ(loaded.messages[0].message.topic, "ok/1");
  EXPECT_EQ(loaded.messages[1].message.topic, "ok/2");
  ASSERT_EQ(loaded.problems.size(), 1u);
  EXPECT_NE(loaded.problems[0].find("truncated"), std::string::npos) << loaded.problems[0];
  EXPECT_NE(loaded.problems[0].find(victim), std::string::npos) << loaded.problems[0];
  EXPECT_TRUE(fs::exists(victim + ".corrupt"));
  EXPECT_FALSE(fs::exists((*store)->directory() + "/00000000000000ff.tmp"));
  // Reported once: the next open does not find it again.
  FileStore::Loaded again;
  ASSERT_TRUE(FileStore::open(options, "c", again));
  EXPECT_TRUE(again.problems.empty());
  EXPECT_EQ(again.messages.size(), 2u);
}

TEST(FileStore, GarbageAndStrayNamesDoNotCrash) {
  TempDir dir;
  FileStoreOptions options{.directory = dir.path.string()};
  fs::create_directories(dir.path / "c");
  std::ofstream(dir.path / "c" / "0000000000000001.q") << "garbage";
  std::ofstream(dir.path / "c" / "0000000000000002.p0") << "";  // packet id 0: invalid
  std::ofstream(dir.path / "c" / "notes.txt") << "x";
  std::ofstream(dir.path / "c" / "0000000000000003.q");  // empty: cut before any byte
  FileStore::Loaded loaded;
  auto store = FileStore::open(options, "c", loaded);
  ASSERT_TRUE(store) << store.error();
  EXPECT_TRUE(loaded.messages.empty());
  EXPECT_EQ(loaded.problems.size(), 4u);
}

TEST(FileStore, BoundedByMaxBytes) {
  TempDir dir;
  FileStoreOptions options{.directory = dir.path.string(), .max_bytes = 1000};
  FileStore::Loaded loaded;
  auto store = FileStore::open(options, "c", loaded);
  ASSERT_TRUE(store);
  Message m{.topic = "t", .payload = std::string(400, 'x'), .qos = QoS::at_least_once};
  auto a = (*store)->add(m, queued_at);
  ASSERT_TRUE(a);
  ASSERT_TRUE((*store)->add(m, queued_at));
  auto refused = (*store)->add(m, queued_at);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("file store full"), std::string::npos);
  ASSERT_TRUE((*store)->remove(*a, 0, false, FileStore::charge(m)));
  EXPECT_TRUE((*store)->add(m, queued_at)) << "room again after a removal";
  EXPECT_EQ(names_in((*store)->directory()).size(), 2u);
}

TEST(FileStore, NeedsAClientIdAndEscapesIt) {
  TempDir dir;
  FileStore::Loaded loaded;
  EXPECT_FALSE(FileStore::open({.directory = dir.path.string()}, "", loaded));
  EXPECT_EQ(FileStore::escape("a/b c"), "a%2Fb%20c");
  EXPECT_EQ(FileStore::escape(".."), "%2E.");
  EXPECT_EQ(FileStore::escape("sensor-1_x.y"), "sensor-1_x.y");
}

}  // namespace
}  // namespace cicada::client
