// The client's file store on its own: record encoding, state kept in file names,
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
  auto decoded = store::decode_record(store::encode_record(m));
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded->topic, m.topic);
  EXPECT_EQ(decoded->payload, m.payload);
  EXPECT_EQ(decoded->qos, m.qos);
  EXPECT_TRUE(decoded->retain);
  EXPECT_EQ(decoded->properties.payload_format_indicator, 1);
  EXPECT_EQ(decoded->properties.message_expiry_interval, 60u);
  EXPECT_EQ(decoded->properties.content_type, "text/plain");
  EXPECT_EQ(decoded->properties.response_topic, "reply/to");
  EXPECT_EQ(decoded->properties.correlation_data, std::string("\x01\x02", 2));
  EXPECT_EQ(decoded->properties.user_properties, m.properties.user_properties);

  Message plain{.topic = "t", .payload = "", .qos = QoS::at_least_once};
  auto minimal = store::decode_record(store::encode_record(plain));
  ASSERT_TRUE(minimal) << minimal.error();
  EXPECT_FALSE(minimal->retain);
  EXPECT_FALSE(minimal->properties.content_type);
  EXPECT_TRUE(minimal->properties.user_properties.empty());
}

TEST(StoreRecord, EveryTruncationIsAnError) {
  // A crash can cut a file at any byte: each prefix must be refused, none accepted.
  const std::string bytes = store::encode_record(full_message());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = store::decode_record(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(decoded) << "prefix of " << n << " bytes accepted";
  }
  auto cut = store::decode_record(std::string_view(bytes).substr(0, bytes.size() - 3));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().find("truncated"), std::string::npos) << cut.error();
}

TEST(StoreRecord, DamageIsCaughtByTheChecksum) {
  std::string bytes = store::encode_record(full_message());
  bytes[store::record_magic.size() + 4 + 5] ^= 0x20;  // inside the topic
  auto decoded = store::decode_record(bytes);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error(), "checksum mismatch");
  EXPECT_FALSE(store::decode_record("not a message file"));
  EXPECT_EQ(store::crc32("123456789"), 0xCBF43926u);  // the standard check value
}

TEST(StoreRecord, EverySingleByteFlipIsRefused) {
  // Damage anywhere (magic, length, body, checksum) must never decode to a message.
  const std::string bytes = store::encode_record(full_message());
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
    first = *(*store)->add({.topic = "t/1", .payload = "one", .qos = QoS::at_least_once});
    second = *(*store)->add({.topic = "t/2", .payload = "two", .qos = QoS::exactly_once});
    third = *(*store)->add({.topic = "t/3", .payload = "three", .qos = QoS::at_least_once});
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
  // New keys continue after the loaded ones, so order stays publish order.
  auto next = (*store)->add({.topic = "t/4", .payload = "four", .qos = QoS::at_least_once});
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
    ASSERT_TRUE((*store)->add({.topic = "ok/1", .payload = "a", .qos = QoS::at_least_once}));
    auto cut = (*store)->add(
        {.topic = "cut", .payload = std::string(100, 'x'), .qos = QoS::at_least_once});
    ASSERT_TRUE(cut);
    ASSERT_TRUE((*store)->add({.topic = "ok/2", .payload = "b", .qos = QoS::at_least_once}));
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
  auto a = (*store)->add(m);
  ASSERT_TRUE(a);
  ASSERT_TRUE((*store)->add(m));
  auto refused = (*store)->add(m);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("file store full"), std::string::npos);
  ASSERT_TRUE((*store)->remove(*a, 0, false, FileStore::charge(m)));
  EXPECT_TRUE((*store)->add(m)) << "room again after a removal";
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
