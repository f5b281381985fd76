// Flags that are parsed by hand: the broker URL, the protocol version, and the checks
// finalize() makes before anything connects.
#include "options.hpp"

#include <gtest/gtest.h>

namespace cicada::bench {
namespace {

TEST(ParseUrl, HostAndPort) {
  auto url = parse_url("mqtt://broker.example:1884");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "broker.example");
  EXPECT_EQ(url->port, 1884);
  EXPECT_FALSE(url->username);
}

TEST(ParseUrl, DefaultPortAndTcpAlias) {
  auto url = parse_url("tcp://10.0.0.1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "10.0.0.1");
  EXPECT_EQ(url->port, 1883);
}

TEST(ParseUrl, CredentialsAndIpv6) {
  auto url = parse_url("mqtt://bob:s3cr:t@[::1]:2000/ignored");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 2000);
  EXPECT_EQ(url->username, "bob");
  EXPECT_EQ(url->password, "s3cr:t");
}

TEST(ParseUrl, MqttsIsTlsOnPort8883ByDefault) {
  for (const char* text : {"mqtts://h", "ssl://h"}) {
    auto url = parse_url(text);
    ASSERT_TRUE(url) << url.error();
    EXPECT_TRUE(url->tls);
    EXPECT_EQ(url->port, 8883);
  }
  auto url = parse_url("mqtts://h:18883");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->port, 18883);
  EXPECT_FALSE(parse_url("mqtt://h")->tls);
}

TEST(ParseUrl, WebSocketSchemesTheirPortsAndPaths) {
  auto ws = parse_url("ws://h");
  ASSERT_TRUE(ws) << ws.error();
  EXPECT_TRUE(ws->websocket);
  EXPECT_FALSE(ws->tls);
  EXPECT_EQ(ws->port, 8083);
  EXPECT_FALSE(ws->path);  // --ws-path (default /mqtt) applies
  auto wss = parse_url("wss://user@h:18084/mqtt/v1?x=1");
  ASSERT_TRUE(wss) << wss.error();
  EXPECT_TRUE(wss->websocket);
  EXPECT_TRUE(wss->tls);
  EXPECT_EQ(wss->port, 18084);
  EXPECT_EQ(wss->path, "/mqtt/v1?x=1");
  EXPECT_EQ(wss->username, "user");
  EXPECT_EQ(parse_url("wss://h")->port, 8084);
  // Over plain TCP a path is ignored.
  EXPECT_FALSE(parse_url("mqtt://h/mqtt")->path);
}

TEST(ParseUrl, RejectsMalformed) {
  EXPECT_FALSE(parse_url("broker:1883"));
  EXPECT_FALSE(parse_url("http://broker"));
  EXPECT_FALSE(parse_url("mqtt://"));
  EXPECT_FALSE(parse_url("mqtt://h:0"));
  EXPECT_FALSE(parse_url("mqtt://h:65536"));
  EXPECT_FALSE(parse_url("mqtt://h:12ab"));
  EXPECT_FALSE(parse_url("mqtt://[::1"));
}

TEST(ParseVersion, AcceptsTheUsualSpellings) {
  for (const char* v : {"4", "311", "3.1.1", "mqttv311"}) {
    auto version = parse_version(v);
    ASSERT_TRUE(version) << v;
    EXPECT_EQ(*version, codec::ProtocolVersion::v3_1_1);
  }
  for (const char* v : {"5", "mqttv5", "5.0"}) {
    auto version = parse_version(v);
    ASSERT_TRUE(version) << v;
    EXPECT_EQ(*version, codec::ProtocolVersion::v5);
  }
  for (const char* v : {"3", "31", "3.1", "mqttv31"}) {
    auto version = parse_version(v);
    ASSERT_TRUE(version) << v;
    EXPECT_EQ(*version, codec::ProtocolVersion::v3_1);
  }
  EXPECT_FALSE(parse_version("3.2"));
  EXPECT_FALSE(parse_version("6"));
  EXPECT_FALSE(parse_version(""));
}

TEST(Finalize, FillsDefaults) {
  Options o;
  o.scenario = Scenario::pubsub;
  ASSERT_FALSE(finalize(o));
  EXPECT_EQ(o.topic, "cicada-bench/%i");
  EXPECT_EQ(o.sub_topic, "cicada-bench/+");
  EXPECT_EQ(o.sub_qos, 0u);
  EXPECT_FALSE(o.prefix.empty());
  EXPECT_GE(o.threads, 1u);
  Options s;
  s.scenario = Scenario::sub;
  ASSERT_FALSE(finalize(s));
  EXPECT_EQ(s.topic, "cicada-bench/#");
}

TEST(Finalize, Mqtt31KeepsClientIdsWithin23Characters) {
  // MQTT 3.1 client ids are 1 to 23 characters: the default prefix is short enough.
  Options o;
  o.version_text = "3";
  o.scenario = Scenario::pubsub;
  o.count = 10000;
  ASSERT_FALSE(finalize(o));
  EXPECT_EQ(o.version, codec::ProtocolVersion::v3_1);
  EXPECT_LE(client_id_of(o.prefix, "pub", 9999).size(), 23u);
  // A long prefix is refused, naming the id that would not fit.
  Options longer;
  longer.version_text = "3";
  longer.prefix = "a-rather-long-prefix";
  longer.count = 10;
  const auto error = finalize(longer);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("a-rather-long-prefix_pub_9"), std::string::npos) << *error;
  // The index range counts: 23 characters fit, 24 do not.
  Options edge;
  edge.version_text = "3";
  edge.scenario = Scenario::conn;
  edge.prefix = "p234567890123";  // + "_conn_" + 4 digits = 23
  edge.count = 10000;
  EXPECT_FALSE(finalize(edge));
  edge.count = 10001;
  EXPECT_TRUE(finalize(edge));
}

TEST(Finalize, UrlWinsOverHostAndPort) {
  Options o;
  o.url = "mqtt://u:p@127.0.0.2:1999";
  ASSERT_FALSE(finalize(o));
  EXPECT_EQ(o.host, "127.0.0.2");
  EXPECT_EQ(o.port, 1999);
  EXPECT_EQ(o.username, "u");
  EXPECT_EQ(o.password, "p");
}

TEST(Finalize, WebSocketUrlSetsTransportAndPath) {
  Options o;
  o.url = "wss://127.0.0.1/ws";
  ASSERT_FALSE(finalize(o));
  EXPECT_TRUE(o.websocket);
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.port, 8084);
  EXPECT_EQ(o.ws_path, "/ws");
  Options flags;
  flags.websocket = true;
  ASSERT_FALSE(finalize(flags));
  EXPECT_EQ(flags.ws_path, "/mqtt");
  EXPECT_FALSE(flags.tls);
}

TEST(Finalize, RejectsBadCombinations) {
  const auto error_of = [](auto change) {
    Options o;
    change(o);
    return finalize(o);
  };
  EXPECT_TRUE(error_of([](Options& o) { o.qos = 3; }));
  EXPECT_TRUE(error_of([](Options& o) { o.count = 0; }));
  EXPECT_TRUE(error_of([](Options& o) { o.payload_size = 31; }));
  EXPECT_TRUE(error_of([](Options& o) { o.inflight = 0; }));
  EXPECT_TRUE(error_of([](Options& o) { o.topic = "bench/%q"; }));
  EXPECT_TRUE(error_of([](Options& o) { o.url = "wss2://h"; }));
  EXPECT_TRUE(error_of([](Options& o) { o.ws_path = "mqtt"; }));
  EXPECT_TRUE(error_of([](Options& o) { o.url = "ws://h/a b"; }));
  EXPECT_TRUE(error_of([](Options& o) { o.ws_path = "/x\r\nX-Injected: 1"; }));
  EXPECT_TRUE(error_of([](Options& o) { o.version_text = "4", o.session_expiry = 10; }));
  EXPECT_TRUE(error_of([](Options& o) { o.version_text = "4", o.password = "x"; }));
  EXPECT_TRUE(error_of([](Options& o) { o.version_text = "3", o.session_expiry = 10; }));
  EXPECT_TRUE(error_of([](Options& o) { o.version_text = "3", o.password = "x"; }));
  // A subscriber needs no payload header.
  EXPECT_FALSE(error_of([](Options& o) { o.scenario = Scenario::sub, o.payload_size = 1; }));
}

}  // namespace
}  // namespace cicada::bench
