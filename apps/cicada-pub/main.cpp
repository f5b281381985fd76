// cicada-pub: publish one message (or one per line of standard input) and exit,
// with mosquitto_pub's flags and exit codes: 0 on success, 1 on any error.
#include <cstdio>
#include <deque>
#include <future>
#include <iostream>
#include <string>

#include <cicada/client/client.hpp>

#include "tool_options.hpp"

namespace {

using namespace cicada;

void report(const tools::ToolOptions& o, const std::string& text) {
  if (!o.quiet) std::fprintf(stderr, "Error: %s\n", text.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = tools::parse_tool_options(tools::Tool::pub, argc, argv);
  if (parsed.options.help) {
    tools::print_help(tools::Tool::pub);
    return 0;
  }
  if (!parsed.error.empty()) {
    tools::print_usage_error(tools::Tool::pub, parsed.error, parsed.options.quiet);
    return 1;
  }
  const auto& o = parsed.options;
  client::Client client(tools::client_options(o));
  client.on_store_error([&](const std::string& problem) { report(o, "store: " + problem); });
  auto started = client.start().get();
  if (started.error) {
    report(o, started.error.describe());
    return tools::connect_failure_exit_code(started.error, o.version);
  }
  if (o.debug)
    std::fprintf(stderr, "Connected to %s (MQTT %s, session present %d)\n",
                 started.connack.uri.c_str(),
                 std::string(codec::to_string(started.connack.version)).c_str(),
                 started.connack.session_present ? 1 : 0);

  int rc = 0;
  auto message_for = [&](std::string payload) {
    return client::Message{.topic = o.topics.front(),
                           .payload = std::move(payload),
                           .qos = o.qos,
                           .retain = o.retain,
                           .properties = o.publish_properties};
  };
  auto check = [&](std::future<client::PublishResult>& done) {
    auto result = done.get();
    if (result.error) {
      report(o, "publish failed: " + result.error.describe());
      rc = 1;
    } else if (o.debug) {
      std::fprintf(stderr, "Published to %s (QoS %d)\n", o.topics.front().c_str(),
                   static_cast<int>(o.qos));
    }
  };
  if (o.lines) {
    // One message per line; at most 1000 unacknowledged at a time.
    std::deque<std::future<client::PublishResult>> pending;
    std::string line;
    while (std::getline(std::cin, line)) {
      pending.push_back(client.publish(message_for(line)));
      if (pending.size() >= 1000) {
        check(pending.front());
        pending.pop_front();
      }
    }
    for (auto& done : pending)
      check(done);
  } else {
    auto done = client.publish(message_for(*o.message));
    check(done);
  }
  // With --store, messages an earlier run left behind go out too before we leave.
  client.drain().wait();
  client.disconnect(client::ReasonCode::success, o.disconnect_properties).wait();
  return rc;
}
