// The MQTT 101 producer: publishes to "test" every 3 seconds while connected, and
// rides out broker restarts (connect timeout 5 s, retry 3 s, at most 9 s between tries).
#include <cicada/client/client.hpp>

#include "../common.hpp"

int main(int argc, char** argv) {
  using namespace cicada::client;
  using namespace std::chrono_literals;
  example::Signals signals;
  auto s = example::settings(
      argc, argv, "producer",
      "The MQTT 101 producer: publishes to 'test' at QoS 1 every 3 seconds while connected.");
  ClientOptions options;
  options.servers = s.servers();
  options.client_id = s.client_id;
  example::apply_session(s, options);
  options.connect_timeout = 5s;
  options.backoff = {.min_delay = 3s, .max_delay = 9s, .initial_max_delay = 3s, .factor = 2.0};
  Client client(options);
  client.on_connection_up([](const ConnackInfo& c) {
    example::log("connected to %s (session present: %s)", c.uri.c_str(),
                 c.session_present ? "yes" : "no");
  });
  client.on_connection_down(
      [](const Error& e) { example::log("connection lost: %s", e.describe().c_str()); });
  client.on_reconnecting([](std::uint32_t n, const std::string& uri) {
    example::log("connection attempt %u to %s", n, uri.c_str());
  });
  auto started = client.start();  // completes on the first connection; we do not wait for it

  for (int count = 0; !signals.wait_for(3s);) {
    if (!client.connected()) continue;
    std::string payload = "message " + std::to_string(++count);
    client.async_publish({.topic = "test", .payload = payload, .qos = QoS::at_least_once},
                         [payload](PublishResult r) {
                           if (r.error)
                             example::log("publish failed: %s", r.error.describe().c_str());
                           else
                             example::log("published '%s'", payload.c_str());
                         });
  }
  example::log("shutting down");
  client.disconnect().wait();
}
