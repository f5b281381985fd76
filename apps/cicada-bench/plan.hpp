// Plan: finalized Options turned into what the workers run: the shared client
// settings, the pacing, and one ClientSpec per client with its id and expanded topic.
// Everything that can be wrong with the flags is found here, before a single
// connection is opened.
// Thread-safety: plain values, built once on the main thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <cicada/base/expected.hpp>

#include "connection.hpp"
#include "options.hpp"
#include "worker.hpp"

namespace cicada::bench {

struct Plan {
  ClientSettings settings;
  Pacing pacing;
  std::vector<ClientSpec> specs;  // pubsub: subscribers (group 0) before publishers (group 1)
  std::uint32_t publishers = 0;
  std::uint32_t subscribers = 0;
  std::uint32_t idle = 0;   // conn scenario
  std::string broker_text;  // "mqtt://host:port" as resolved, for the report
};

Expected<Plan, std::string> make_plan(const Options& options);

// Client k goes to worker k mod `workers`, so every worker gets its share of each role.
std::vector<std::vector<ClientSpec>> distribute(std::vector<ClientSpec> specs, unsigned workers);

// Publisher `ordinal`'s share of a limit of `limit` messages over `publishers`;
// UINT64_MAX without a limit.
std::uint64_t share_of_limit(std::uint64_t limit, std::uint32_t publishers, std::uint32_t ordinal);

}  // namespace cicada::bench
