#include "listener_websocket.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>

namespace cicada::broker {

net::WebSocketOptions websocket_options(const TcpListenerConfig& config,
                                        std::uint32_t max_packet_size) {
  const std::string& path = config.mqtt_path;
  // An origin-form request target (RFC 9112 §3.2.1) without its query: the handshake
  // compares the request's path with it, so anything else would refuse every client.
  const bool valid =
      !path.empty() && path.front() == '/' && std::none_of(path.begin(), path.end(), [](char c) {
        return c == '?' || c == '#' || static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
      });
  if (!valid) {
    throw std::runtime_error("listener " + config.id() +
                             ": mqtt_path must start with '/' and hold no spaces, control "
                             "characters, '?' or '#', got \"" +
                             path + "\"");
  }
  net::WebSocketOptions options;
  options.handshake.path = path;
  // [MQTT-6.0.0-3] a client must offer "mqtt"; refusing one that does not is the
  // operator's choice, as in EMQX.
  options.handshake.require_subprotocol = config.fail_if_no_subprotocol;
  // Clients send a packet per frame (paho, MQTT.js, libcicada), so a frame larger than
  // the largest packet the broker accepts is refused (1009) before its payload is read,
  // as the parser refuses such a packet from its fixed header.
  options.frames.max_frame_size = max_packet_size;
  options.handshake.check_origin = config.check_origin_enable;
  options.handshake.allow_origin_absence = config.allow_origin_absence;
  std::string_view rest = config.check_origins;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view origin = rest.substr(0, comma);
    while (!origin.empty() && origin.front() == ' ')
      origin.remove_prefix(1);
    while (!origin.empty() && origin.back() == ' ')
      origin.remove_suffix(1);
    if (!origin.empty()) options.handshake.allowed_origins.emplace_back(origin);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (config.check_origin_enable && options.handshake.allowed_origins.empty() &&
      !config.allow_origin_absence) {
    // Every client would be refused: surely not what was meant.
    throw std::runtime_error("listener " + config.id() +
                             ": check_origin_enable with no check_origins and "
                             "allow_origin_absence = false refuses every client");
  }
  return options;
}

Listener::LayerFactory websocket_layer_factory(const TcpListenerConfig& config,
                                               std::uint32_t max_packet_size,
                                               std::shared_ptr<const ListenerTls> tls) {
  return [options = websocket_options(config, max_packet_size),
          tls = std::move(tls)]() -> std::unique_ptr<net::StreamLayer> {
    return std::make_unique<net::WebSocketLayer>(options, tls ? tls->make_layer() : nullptr);
  };
}

}  // namespace cicada::broker
