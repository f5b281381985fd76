// run_scenario: runs conn, pub, sub or pubsub as the options say and reports. The
// main thread is the controller: it releases connection groups (pubsub: subscribers,
// then publishers once every subscription is in place), prints a progress line per
// second, decides when publishing stops, waits for acknowledgements and deliveries to
// drain, then has the workers disconnect and accounts for what they measured.
// Thread-safety: call once, from the main thread.
#pragma once

#include "options.hpp"

namespace cicada::bench {

// The process exit code: 0 success, 1 too many failed connections, 2 bad options
// or an unresolvable broker.
int run_scenario(const Options& options);

}  // namespace cicada::bench
