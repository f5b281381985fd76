// Server URIs: "mqtt://host[:port]", "mqtts://host[:port]", "ws://host[:port][/path]"
// and "wss://host[:port][/path]", parsed with Boost.URL. The scheme picks the transport.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <cicada/base/expected.hpp>

namespace cicada::client {

enum class Transport : std::uint8_t { tcp, tls, websocket, websocket_tls };

struct ServerUri {
  Transport transport = Transport::tcp;
  std::string host;
  std::uint16_t port = 1883;
  std::string path;  // WebSocket path, default "/mqtt"
};

// Default ports: 1883 mqtt, 8883 mqtts, 8083 ws, 8084 wss. "tcp://" is read as mqtt://
// and "ssl://" as mqtts:// (Paho spells them so). Errors are human-readable text.
Expected<ServerUri, std::string> parse_server_uri(std::string_view uri);

}  // namespace cicada::client
