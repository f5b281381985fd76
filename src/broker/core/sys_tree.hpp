// The $SYS tree: the broker's figures as (topic, payload) pairs under $SYS/broker/,
// named as Mosquitto names them where both brokers measure the same thing, and the
// bookkeeping of which of them changed since they were last published (Mosquitto too
// publishes a figure only when it changed). Pure: numbers in, pairs out; SysPublisher
// (sys_publisher.hpp) gathers the numbers and publishes the pairs.
// Thread-safety: a SysTree belongs to its publisher's thread (worker 0).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cicada::broker {

struct SysFigure {
  std::string topic;    // "$SYS/broker/..."
  std::string payload;  // plain text, numbers in decimal, as Mosquitto writes them
  friend bool operator==(const SysFigure&, const SysFigure&) = default;
};

// What the broker measured at one moment, summed over its workers.
struct SysSample {
  std::string version;  // "cicada version X.Y.Z"
  std::uint64_t uptime_seconds = 0;
  std::uint64_t clients_connected = 0;  // CONNACK sent, connection still open
  // The most clients_connected seen at a publication: sampled, as Mosquitto does, so a
  // burst between two publications is not seen.
  std::uint64_t clients_maximum = 0;
  std::uint64_t clients_total = 0;      // sessions, connected or not
  std::uint64_t clients_expired = 0;    // sessions ended by their expiry interval
  std::uint64_t messages_received = 0;  // control packets of any type
  std::uint64_t messages_sent = 0;
  std::uint64_t publish_received = 0;  // PUBLISH packets
  std::uint64_t publish_sent = 0;
  std::uint64_t publish_dropped = 0;         // undelivered: queue full, expired, too large, slow
  std::uint64_t publish_bytes_received = 0;  // PUBLISH payload bytes
  std::uint64_t publish_bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t retained = 0;
  // Published only as load averages (sys_load.hpp), as in Mosquitto.
  std::uint64_t sockets_accepted = 0;  // TCP connections accepted
  std::uint64_t connects = 0;          // CONNECTs accepted (CONNACK 0 sent)
  // The overload counters (overload_counters.hpp) by name, published under
  // $SYS/broker/overload/<name>.
  std::vector<std::pair<std::string_view, std::uint64_t>> overload;
};

// Every figure of `sample`, in a fixed order.
std::vector<SysFigure> sys_figures(const SysSample& sample);

class SysTree {
 public:
  // The figures whose payload differs from the one last seen for their topic, all of
  // them the first time. It remembers the figures of the last call only, so it holds
  // no more than one sample's worth.
  std::vector<SysFigure> changed(std::vector<SysFigure> figures);

 private:
  std::unordered_map<std::string, std::string> last_;  // topic -> payload
};

}  // namespace cicada::broker
