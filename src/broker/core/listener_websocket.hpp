// The WebSocket side of one [listeners.ws.NAME] or [listeners.wss.NAME] listener: the
// net::WebSocketOptions its keys give, and the factory of one WebSocketLayer per
// accepted connection, over the socket itself (ws) or over a TLS layer from the
// listener's ListenerTls (wss), so wss shares the ssl listener's context, files and
// SIGHUP reload.
// Thread-safety: built on the main thread; the factory is then called on any worker
// (it reads only its own immutable copy of the options and the ListenerTls's atomic).
#pragma once

#include <cstdint>
#include <memory>

#include "../config/config.hpp"
#include "listener.hpp"
#include "listener_tls.hpp"
#include "net/websocket_layer.hpp"

namespace cicada::broker {

// Throws std::runtime_error "listener ws:NAME: mqtt_path ..." when the path cannot be
// a request target, or "... check_origin_enable ..." when the origin keys would refuse
// every client (start-up errors are exceptions, STYLE.md 2).
net::WebSocketOptions websocket_options(const TcpListenerConfig& config,
                                        std::uint32_t max_packet_size);

// `tls` is the listener's TLS side for wss, null for ws.
Listener::LayerFactory websocket_layer_factory(const TcpListenerConfig& config,
                                               std::uint32_t max_packet_size,
                                               std::shared_ptr<const ListenerTls> tls);

}  // namespace cicada::broker
