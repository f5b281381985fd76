// Output of a received message as mosquitto_sub prints it: the payload; with -v the
// topic and the payload; with -F a format string (%t topic, %p payload, %q QoS,
// %r retain, %l payload length, %m message id, %x payload in hex, %I ISO-8601 time,
// %U Unix time, %% a percent sign; \n, \t, \\ escapes).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <cicada/client/types.hpp>

namespace cicada::tools {

std::string format_message(const client::ReceivedMessage& message, const std::string* format,
                           bool verbose, bool no_newline);

}  // namespace cicada::tools
