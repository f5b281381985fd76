// [listeners.ws.NAME] and [listeners.wss.NAME]: their own keys and default ports, wss
// with every TLS key of an ssl listener, and how they print and read back.
#include <gtest/gtest.h>

#include "broker/config/config.hpp"
#include "broker/config/options.hpp"
#include "test_support.hpp"

namespace cicada::broker {
namespace {

using testing_support::load_error;
using testing_support::with_file;
using testing_support::write_file;

TEST(WsListener, DefaultsArePort8083PathMqttAndNoSubprotocolRequired) {
  const Config c = load_config(with_file(write_file("[listeners.ws.default]\n")), {});
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  const TcpListenerConfig& ws = c.tcp_listeners[0];
  EXPECT_EQ(ws.kind, ListenerKind::ws);
  EXPECT_EQ(ws.id(), "ws:default");
  EXPECT_EQ(ws.host, "0.0.0.0");
  EXPECT_EQ(ws.port, 8083);
  EXPECT_EQ(ws.mqtt_path, "/mqtt");
  EXPECT_FALSE(ws.fail_if_no_subprotocol);
  EXPECT_FALSE(ws.check_origin_enable);
  EXPECT_TRUE(ws.allow_origin_absence);
  EXPECT_EQ(ws.check_origins, "");
  EXPECT_EQ(ws.max_connections, 1'000'000u);
}

TEST(WssListener, HasTheTlsAndWebSocketKeysAndPort8084) {
  const Config c = load_config(with_file(write_file(R"(
[listeners.wss.edge]
certfile = "/c.pem"
keyfile = "/k.pem"
cacertfile = "/ca.pem"
verify = "verify_peer"
fail_if_no_peer_cert = true
peer_cert_as_username = "cn"
tls_min_version = "tlsv1.3"
mqtt_path = "/ws"
fail_if_no_subprotocol = true
allow_anonymous = false
check_origin_enable = true
allow_origin_absence = false
check_origins = "https://app.example"
)")),
                               {});
  ASSERT_EQ(c.tcp_listeners.size(), 1u);
  const TcpListenerConfig& wss = c.tcp_listeners[0];
  EXPECT_EQ(wss.kind, ListenerKind::wss);
  EXPECT_EQ(wss.id(), "wss:edge");
  EXPECT_EQ(wss.port, 8084);
  EXPECT_EQ(wss.certfile, "/c.pem");
  EXPECT_EQ(wss.keyfile, "/k.pem");
  EXPECT_EQ(wss.cacertfile, "/ca.pem");
  EXPECT_EQ(wss.verify, TlsVerify::verify_peer);
  EXPECT_TRUE(wss.fail_if_no_peer_cert);
  EXPECT_EQ(wss.peer_cert_as_username, PeerCertAsUsername::cn);
  EXPECT_EQ(wss.tls_min_version, TlsMinVersion::tls1_3);
  EXPECT_EQ(wss.mqtt_path, "/ws");
  EXPECT_TRUE(wss.fail_if_no_subprotocol);
  EXPECT_FALSE(wss.allow_anonymous);
  EXPECT_TRUE(wss.check_origin_enable);
  EXPECT_FALSE(wss.allow_origin_absence);
  EXPECT_EQ(wss.check_origins, "https://app.example");
}

TEST(WsListener, EachNameIsAListenerAndTheEnvironmentReachesThem) {
  const Config c = load_config({}, {{"CICADA_LISTENERS__WS__BIND", "127.0.0.1:9083"},
                                    {"CICADA_LISTENERS__WS__INTERNAL__MQTT_PATH", "/internal"},
                                    {"CICADA_LISTENERS__WSS__PUBLIC__CERTFILE", "/x.pem"}});
  ASSERT_EQ(c.tcp_listeners.size(), 3u);  // by kind, then name
  EXPECT_EQ(c.tcp_listeners[0].id(), "ws:default");
  EXPECT_EQ(c.tcp_listeners[0].port, 9083);
  EXPECT_EQ(c.tcp_listeners[1].id(), "ws:internal");
  EXPECT_EQ(c.tcp_listeners[1].mqtt_path, "/internal");
  EXPECT_EQ(c.tcp_listeners[2].id(), "wss:public");
  EXPECT_EQ(c.tcp_listeners[2].certfile, "/x.pem");
}

TEST(WsListener, KeysOfOtherKindsAreRefusedWithTheKeyNamed) {
  // TLS keys are not a ws listener's; WebSocket keys not an ssl or tcp listener's.
  for (const auto& [table, key] : {std::pair{"ws", "certfile"}, std::pair{"ssl", "mqtt_path"},
                                   std::pair{"tcp", "fail_if_no_subprotocol"}}) {
    const std::string path =
        write_file(std::string("[listeners.") + table + ".a]\n" + key + " = \"x\"\n");
    EXPECT_NE(load_error(with_file(path))
                  .find(path + ":2: listeners." + table + ".a." + key + ": unknown key"),
              std::string::npos)
        << table << " " << key;
  }
  const std::string path = write_file("[listeners.wss.a]\nmqtt_pth = \"/x\"\n");
  EXPECT_EQ(load_error(with_file(path)),
            path +
                ":2: listeners.wss.a.mqtt_pth: unknown key; did you mean "
                "listeners.wss.a.mqtt_path?");
}

TEST(WsListener, SamePortAsAnotherKindIsRefused) {
  const std::string path =
      write_file("[listeners.ws.a]\nbind = 8083\n[listeners.wss.a]\nbind = 8083\n");
  EXPECT_EQ(load_error(with_file(path)),
            path +
                ":4: listeners.wss.a.bind: 0.0.0.0:8083 is also the bind of listener ws:a; "
                "give each listener its own port");
}

TEST(WsListener, PrintedConfigReadsBackTheSame) {
  const Config c = load_config(with_file(write_file(R"(
[listeners.ws.plain]
bind = "127.0.0.1:0"
mqtt_path = "/mqtt/v1"
[listeners.wss.secure]
bind = "127.0.0.1:1"
certfile = "/c.pem"
keyfile = "/k.pem"
fail_if_no_subprotocol = true
)")),
                               {});
  const std::string printed = print_config(c);
  EXPECT_NE(printed.find("[listeners.ws.plain]\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("bind = \"127.0.0.1:0\"\nmqtt_path = \"/mqtt/v1\"\n"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("[listeners.wss.secure]\n"), std::string::npos) << printed;
  EXPECT_EQ(load_config(with_file(write_file(printed)), {}), c) << printed;
}

TEST(WsListener, KindTablesListEachKeyOnceWithTheKindsOwnBindFirst) {
  const auto wss = config::kind_listener_options(ListenerKind::wss);
  ASSERT_FALSE(wss.empty());
  EXPECT_EQ(wss.front()->key, "bind");
  EXPECT_EQ(wss.front()->default_value, "0.0.0.0:8084");
  // Every ssl key and every ws key but their bind rows.
  const auto ssl = config::kind_listener_options(ListenerKind::ssl);
  const auto ws = config::kind_listener_options(ListenerKind::ws);
  EXPECT_EQ(wss.size(), ssl.size() + ws.size() - 1);
  EXPECT_EQ(config::find_listener_option(ListenerKind::wss, "certfile"),
            config::find_listener_option(ListenerKind::ssl, "certfile"));
  EXPECT_EQ(config::find_listener_option(ListenerKind::wss, "mqtt_path"),
            config::find_listener_option(ListenerKind::ws, "mqtt_path"));
  EXPECT_EQ(config::find_listener_option(ListenerKind::tcp, "mqtt_path"), nullptr);
  EXPECT_TRUE(config::kind_listener_options(ListenerKind::tcp).empty());
}

}  // namespace
}  // namespace cicada::broker
