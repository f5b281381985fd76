#include "plan.hpp"

#include <random>

#include <cicada/topic/topic.hpp>

#include "topic_template.hpp"

namespace cicada::bench {
namespace {

std::string_view role_name(Role role) {
  return role == Role::pub ? "pub" : role == Role::sub ? "sub" : "conn";
}

Expected<ClientSpec, std::string> make_spec(const Options& o, Role role, std::uint8_t group,
                                            std::uint32_t ordinal, const std::string& pattern) {
  ClientSpec spec{.role = role, .group = group, .ordinal = ordinal};
  spec.index = o.start_number + ordinal;
  spec.client_id = client_id_of(o.prefix, role_name(role), spec.index);
  if (role == Role::conn) return Expected<ClientSpec, std::string>{std::move(spec)};
  spec.topic = expand_template(
      pattern,
      {.index = spec.index, .client_id = spec.client_id, .username = o.username.value_or("")});
  const topic::TopicError error =
      role == Role::pub ? topic::validate_name(spec.topic) : topic::validate_filter(spec.topic);
  if (error != topic::TopicError::ok) {
    return unexpected(std::string(role == Role::pub ? "topic" : "filter") + " '" + spec.topic +
                      "' is invalid: " + std::string(topic::to_string(error)));
  }
  return Expected<ClientSpec, std::string>{std::move(spec)};
}

}  // namespace

std::uint64_t share_of_limit(std::uint64_t limit, std::uint32_t publishers, std::uint32_t ordinal) {
  if (limit == 0) return UINT64_MAX;
  return limit / publishers + (ordinal < limit % publishers ? 1 : 0);
}

Expected<Plan, std::string> make_plan(const Options& o) {
  Plan plan;
  auto broker = resolve(o.host, o.port);
  if (!broker) return unexpected(broker.error());
  ClientSettings& s = plan.settings;
  s.broker = *broker;
  const char* scheme =
      o.websocket ? (o.tls ? "wss://" : "ws://") : (o.tls ? "mqtts://" : "mqtt://");
  plan.broker_text = scheme + s.broker.to_string() + (o.websocket ? o.ws_path : "");
  if (o.tls) {
    auto context = TlsClientContext::make(o.tls_options);
    if (!context) return unexpected(context.error());
    s.tls = std::move(*context);
    s.tls_host = o.host;
  }
  if (o.websocket) {
    // [RFC 6455 §4.1 4] Host names the server as the user did, with its port.
    const bool ipv6 = o.host.find(':') != std::string::npos;
    s.websocket = true;
    s.ws_host = (ipv6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
    s.ws_path = o.ws_path;
  }
  for (const std::string& ip : o.ifaddrs) {
    auto source = parse_source_address(ip);
    if (!source) return unexpected(source.error());
    if (source->family() != s.broker.family()) {
      return unexpected("--ifaddr " + ip + " is not of the broker address's family (" +
                        s.broker.to_string() + ")");
    }
    s.sources.push_back(*source);
  }
  s.version = o.version;
  s.keep_alive = o.keep_alive;
  s.clean_start = o.clean_start;
  s.session_expiry = o.session_expiry;
  s.username = o.username;
  s.password = o.password;
  s.pub_qos = static_cast<codec::QoS>(o.qos);
  s.sub_qos = static_cast<codec::QoS>(o.sub_qos.value_or(o.qos));
  s.retain = o.retain;
  s.payload_size = o.payload_size;
  s.run_id = static_cast<std::uint32_t>(std::random_device{}());
  s.inflight = static_cast<std::uint16_t>(o.inflight);
  s.connect_timeout_ns = static_cast<std::uint64_t>(o.connect_timeout_s * 1e9);
  if (o.scenario == Scenario::pubsub) s.stream_first = 0;
  s.templates = make_templates(o.version);

  Pacing& p = plan.pacing;
  p.connect_interval_ns = o.connect_rate > 0
                              ? static_cast<std::uint64_t>(1e9 / o.connect_rate)
                              : static_cast<std::uint64_t>(o.connect_interval_ms * 1e6);
  p.total_rate = o.rate;
  p.publish_interval_ns = static_cast<std::uint64_t>(o.publish_interval_ms * 1e6);

  auto add = [&](Role role, std::uint8_t group, std::uint32_t count,
                 const std::string& pattern) -> std::optional<std::string> {
    for (std::uint32_t i = 0; i < count; ++i) {
      auto spec = make_spec(o, role, group, i, pattern);
      if (!spec) return spec.error();
      if (role == Role::pub) spec->limit = share_of_limit(o.limit, count, i);
      plan.specs.push_back(std::move(*spec));
    }
    return std::nullopt;
  };
  std::optional<std::string> error;
  switch (o.scenario) {
    case Scenario::conn:
      plan.idle = o.count;
      error = add(Role::conn, 0, o.count, "");
      break;
    case Scenario::pub:
      plan.publishers = o.count;
      error = add(Role::pub, 0, o.count, o.topic);
      break;
    case Scenario::sub:
      plan.subscribers = o.count;
      error = add(Role::sub, 0, o.count, o.topic);
      break;
    case Scenario::pubsub:
      plan.subscribers = o.subscribers;
      plan.publishers = o.count;
      error = add(Role::sub, 0, o.subscribers, o.sub_topic);
      if (!error) error = add(Role::pub, 1, o.count, o.topic);
      break;
  }
  if (error) return unexpected(*error);
  p.total_publishers = plan.publishers;
  return Expected<Plan, std::string>{std::move(plan)};
}

std::vector<std::vector<ClientSpec>> distribute(std::vector<ClientSpec> specs, unsigned workers) {
  std::vector<std::vector<ClientSpec>> out(workers);
  for (std::size_t k = 0; k < specs.size(); ++k)
    out[k % workers].push_back(std::move(specs[k]));
  return out;
}

}  // namespace cicada::bench
