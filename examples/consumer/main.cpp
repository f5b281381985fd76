// The MQTT 101 consumer: subscribes to "test" whenever a connection comes up and logs
// every message; rides out broker restarts.
#include <cicada/client/client.hpp>

#include "../common.hpp"

int main(int argc, char** argv) {
  using namespace cicada::client;
  using namespace std::chrono_literals;
  example::Signals signals;
  auto s = example::settings(argc, argv, "consumer",
                             "The MQTT 101 consumer: subscribes to 'test' at QoS 1 on every "
                             "connection and logs each message.");
  ClientOptions options;
  options.servers = s.servers();
  options.client_id = s.client_id;
  example::apply_session(s, options);
  options.connect_timeout = 5s;
  options.backoff = {.min_delay = 3s, .max_delay = 9s, .initial_max_delay = 3s, .factor = 2.0};
  options.restore_subscriptions = false;  // we subscribe ourselves, in on_connection_up
  Client client(options);
  client.route("test", [](const ReceivedMessage& m) {
    example::log("received '%.*s' on %s", static_cast<int>(m.payload.size()), m.payload.data(),
                 m.topic.c_str());
  });
  client.on_connection_up([&](const ConnackInfo& c) {
    // With a persistent session, "yes" means the broker kept the subscription and
    // what was queued for us; "no" means it starts afresh (and we subscribe again).
    example::log("connected to %s (session present: %s)", c.uri.c_str(),
                 c.session_present ? "yes" : "no");
    auto r = client.subscribe("test", QoS::at_least_once).get();  // fine: not the I/O thread
    if (r.error)
      example::log("subscribe failed: %s", r.error.describe().c_str());
    else
      example::log("subscribed to test");
  });
  client.on_connection_down(
      [](const Error& e) { example::log("connection lost: %s", e.describe().c_str()); });
  client.on_reconnecting([](std::uint32_t n, const std::string& uri) {
    example::log("connection attempt %u to %s", n, uri.c_str());
  });
  auto started = client.start();
  while (!signals.wait_for(1h)) {
  }
  example::log("shutting down");
  client.disconnect().wait();
}
