#include <gtest/gtest.h>

#include <cicada/client/uri.hpp>

namespace cicada::client {
namespace {

TEST(ServerUri, MqttWithPort) {
  auto uri = parse_server_uri("mqtt://broker.example:1884");
  ASSERT_TRUE(uri) << uri.error();
  EXPECT_EQ(uri->transport, Transport::tcp);
  EXPECT_EQ(uri->host, "broker.example");
  EXPECT_EQ(uri->port, 1884);
}

TEST(ServerUri, DefaultPortsPerScheme) {
  EXPECT_EQ(parse_server_uri("mqtt://h")->port, 1883);
  EXPECT_EQ(parse_server_uri("tcp://h")->port, 1883);
  EXPECT_EQ(parse_server_uri("mqtts://h")->port, 8883);
  EXPECT_EQ(parse_server_uri("ssl://h")->transport, Transport::tls);
  EXPECT_EQ(parse_server_uri("ws://h")->port, 8083);
  EXPECT_EQ(parse_server_uri("wss://h")->port, 8084);
  EXPECT_EQ(parse_server_uri("ws://h")->path, "/mqtt");
  EXPECT_EQ(parse_server_uri("ws://h/custom")->path, "/custom");
}

TEST(ServerUri, Ipv6Host) {
  auto uri = parse_server_uri("mqtt://[::1]:1999");
  ASSERT_TRUE(uri) << uri.error();
  EXPECT_EQ(uri->host, "::1");
  EXPECT_EQ(uri->port, 1999);
}

TEST(ServerUri, Errors) {
  EXPECT_FALSE(parse_server_uri("http://h"));
  EXPECT_FALSE(parse_server_uri("not a uri"));
  EXPECT_FALSE(parse_server_uri("mqtt://h:0"));
  EXPECT_FALSE(parse_server_uri("mqtt://h:70000"));
  EXPECT_FALSE(parse_server_uri("mqtt://"));
  auto bad = parse_server_uri("http://h");
  EXPECT_NE(bad.error().find("unsupported URI scheme"), std::string::npos);
}

}  // namespace
}  // namespace cicada::client
