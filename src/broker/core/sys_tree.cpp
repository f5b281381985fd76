#include "sys_tree.hpp"

namespace cicada::broker {

std::vector<SysFigure> sys_figures(const SysSample& s) {
  std::vector<SysFigure> out;
  out.reserve(20 + s.overload.size());
  auto add = [&](std::string_view name, std::string payload) {
    out.push_back({"$SYS/broker/" + std::string(name), std::move(payload)});
  };
  auto number = [&](std::string_view name, std::uint64_t value) {
    add(name, std::to_string(value));
  };
  add("version", s.version);
  add("uptime", std::to_string(s.uptime_seconds) + " seconds");  // Mosquitto's form
  number("clients/connected", s.clients_connected);
  number("clients/maximum", s.clients_maximum);
  number("clients/total", s.clients_total);
  // Registered sessions with no connection. The two counts are read a moment apart, so
  // a client connecting meanwhile must not make it wrap around.
  number("clients/disconnected",
         s.clients_total > s.clients_connected ? s.clients_total - s.clients_connected : 0);
  number("clients/expired", s.clients_expired);
  number("messages/received", s.messages_received);
  number("messages/sent", s.messages_sent);
  number("publish/messages/received", s.publish_received);
  number("publish/messages/sent", s.publish_sent);
  number("publish/messages/dropped", s.publish_dropped);
  number("publish/bytes/received", s.publish_bytes_received);
  number("publish/bytes/sent", s.publish_bytes_sent);
  number("bytes/received", s.bytes_received);
  number("bytes/sent", s.bytes_sent);
  number("subscriptions/count", s.subscriptions);
  number("retained messages/count", s.retained);  // sic: Mosquitto's topic has a space
  for (const auto& [name, value] : s.overload) {
    number("overload/" + std::string(name), value);
  }
  return out;
}

std::vector<SysFigure> SysTree::changed(std::vector<SysFigure> figures) {
  std::unordered_map<std::string, std::string> now;
  now.reserve(figures.size());
  std::vector<SysFigure> out;
  for (SysFigure& figure : figures) {
    auto last = last_.find(figure.topic);
    const bool same = last != last_.end() && last->second == figure.payload;
    now.emplace(figure.topic, figure.payload);
    if (!same) out.push_back(std::move(figure));
  }
  last_ = std::move(now);
  return out;
}

}  // namespace cicada::broker
