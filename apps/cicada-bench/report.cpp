#include "report.hpp"

#include <cinttypes>
#include <string_view>

namespace cicada::bench {
namespace {

// 1234567 -> "1,234,567": rates of millions are read at a glance.
std::string grouped(std::uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

double per_second(std::uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
      out += escape;
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string json_latency(const std::optional<LatencySummary>& l) {
  if (!l) return "null";
  return "{\"count\":" + std::to_string(l->count) + ",\"mean\":" + fixed(l->mean, 3) +
         ",\"p50\":" + fixed(l->p50, 3) + ",\"p90\":" + fixed(l->p90, 3) +
         ",\"p99\":" + fixed(l->p99, 3) + ",\"p99_9\":" + fixed(l->p999, 3) +
         ",\"max\":" + fixed(l->max, 3) + "}";
}

std::string json_optional(const std::optional<std::uint64_t>& value) {
  return value ? std::to_string(*value) : "null";
}

void print_latency(std::FILE* out, const char* label, const std::optional<LatencySummary>& l,
                   const char* unit) {
  if (!l || l->count == 0) return;
  std::fprintf(out, "%-14s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s %s  (mean %s, n=%s)\n", label,
               fixed(l->p50, 1).c_str(), fixed(l->p90, 1).c_str(), fixed(l->p99, 1).c_str(),
               fixed(l->p999, 1).c_str(), fixed(l->max, 1).c_str(), unit, fixed(l->mean, 1).c_str(),
               grouped(l->count).c_str());
}

}  // namespace

std::string format_progress(const ProgressLine& p) {
  char line[256];
  std::snprintf(line, sizeof line,
                "[%6.1fs] conn %s/%s  fail %s  out %s msg/s  in %s msg/s  inflight %s  err %s",
                p.elapsed_s, grouped(p.connected).c_str(), grouped(p.clients).c_str(),
                grouped(p.failed).c_str(),
                grouped(static_cast<std::uint64_t>(p.sent_per_s + 0.5)).c_str(),
                grouped(static_cast<std::uint64_t>(p.received_per_s + 0.5)).c_str(),
                grouped(p.inflight).c_str(), grouped(p.errors).c_str());
  return line;
}

LatencySummary summarize(const Histogram& h, double ns_per_unit) {
  const auto unit = [&](std::uint64_t ns) { return static_cast<double>(ns) / ns_per_unit; };
  return LatencySummary{.count = h.count(),
                        .mean = h.mean() / ns_per_unit,
                        .p50 = unit(h.percentile(50)),
                        .p90 = unit(h.percentile(90)),
                        .p99 = unit(h.percentile(99)),
                        .p999 = unit(h.percentile(99.9)),
                        .max = unit(h.max())};
}

void print_summary(const Summary& s, std::FILE* out) {
  std::fprintf(out, "== cicada-bench %s  %s  MQTT %s", s.scenario.c_str(), s.broker.c_str(),
               s.protocol.c_str());
  if (s.publishers + s.subscribers > 0) std::fprintf(out, "  QoS %u", s.qos);
  if (s.publishers > 0) std::fprintf(out, "  payload %zu B", s.payload_bytes);
  std::fputc('\n', out);
  std::fprintf(out,
               "%-14s %s publishers, %s subscribers, %s idle; %s connected, %s failed, %s lost\n",
               "clients", grouped(s.publishers).c_str(), grouped(s.subscribers).c_str(),
               grouped(s.idle).c_str(), grouped(s.connected).c_str(),
               grouped(s.conn_failed).c_str(), grouped(s.conn_lost).c_str());
  if (s.never_connected > 0) {
    std::fprintf(out, "%-14s %s clients never connected: the run ended first\n", "",
                 grouped(s.never_connected).c_str());
  }
  std::fprintf(out, "%-14s %s s\n", "elapsed", fixed(s.elapsed_s, 2).c_str());
  if (s.publishers > 0) {
    std::fprintf(out, "%-14s %s msg in %s s = %s msg/s", "sent", grouped(s.sent).c_str(),
                 fixed(s.publish_s, 2).c_str(),
                 grouped(static_cast<std::uint64_t>(per_second(s.sent, s.publish_s))).c_str());
    if (s.qos > 0) {
      std::fprintf(out, "; %s acked, %s rejected", grouped(s.acked).c_str(),
                   grouped(s.rejected).c_str());
    }
    std::fputc('\n', out);
  }
  if (s.subscribers > 0) {
    std::fprintf(out, "%-14s %s msg in %s s = %s msg/s", "received", grouped(s.received).c_str(),
                 fixed(s.receive_s, 2).c_str(),
                 grouped(static_cast<std::uint64_t>(per_second(s.received, s.receive_s))).c_str());
    if (s.foreign > 0)
      std::fprintf(out, " (%s without a bench header)", grouped(s.foreign).c_str());
    std::fputc('\n', out);
  }
  if (s.lost) {
    const double base = static_cast<double>(*s.lost + s.received - s.foreign);
    std::fprintf(out, "%-14s %s lost (%s %%), %s duplicates, %s reordered%s%s\n", "loss",
                 grouped(*s.lost).c_str(),
                 fixed(base > 0 ? 100.0 * static_cast<double>(*s.lost) / base : 0.0, 3).c_str(),
                 grouped(s.duplicates.value_or(0)).c_str(),
                 grouped(s.reordered.value_or(0)).c_str(), s.loss_note.empty() ? "" : "; ",
                 s.loss_note.c_str());
  }
  print_latency(out, "latency", s.latency_us, "us");
  print_latency(out, "ack latency", s.ack_latency_us, "us");
  print_latency(out, "connect", s.connect_ms, "ms");
  std::fprintf(out, "%-14s %s\n", "errors", grouped(s.errors).c_str());
  if (!s.exit_reason.empty()) std::fprintf(out, "%-14s %s\n", "result", s.exit_reason.c_str());
}

std::string summary_json(const Summary& s) {
  std::string j = "{";
  auto field = [&](std::string_view name, const std::string& value) {
    if (j.size() > 1) j += ',';
    j += json_string(name);
    j += ':';
    j += value;
  };
  auto number = [](std::uint64_t v) { return std::to_string(v); };
  field("scenario", json_string(s.scenario));
  field("broker", json_string(s.broker));
  field("protocol", json_string(s.protocol));
  field("qos", number(s.qos));
  field("payload_bytes", number(s.payload_bytes));
  field("publishers", number(s.publishers));
  field("subscribers", number(s.subscribers));
  field("idle", number(s.idle));
  field("connected", number(s.connected));
  field("conn_failed", number(s.conn_failed));
  field("conn_lost", number(s.conn_lost));
  field("never_connected", number(s.never_connected));
  field("connect_s", fixed(s.connect_s, 3));
  field("connect_per_s", fixed(per_second(s.connected, s.connect_s), 1));
  field("elapsed_s", fixed(s.elapsed_s, 3));
  field("publish_s", fixed(s.publish_s, 3));
  field("sent", number(s.sent));
  field("sent_per_s", fixed(per_second(s.sent, s.publish_s), 1));
  field("acked", number(s.acked));
  field("rejected", number(s.rejected));
  field("receive_s", fixed(s.receive_s, 3));
  field("received", number(s.received));
  field("received_per_s", fixed(per_second(s.received, s.receive_s), 1));
  field("foreign", number(s.foreign));
  field("lost", json_optional(s.lost));
  field("duplicates", json_optional(s.duplicates));
  field("reordered", json_optional(s.reordered));
  field("latency_us", json_latency(s.latency_us));
  field("ack_latency_us", json_latency(s.ack_latency_us));
  field("connect_ms", json_latency(s.connect_ms));
  field("errors", number(s.errors));
  field("exit_code", std::to_string(s.exit_code));
  return j + "}";
}

}  // namespace cicada::bench
