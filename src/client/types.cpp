#include <cstdio>

#include <cicada/client/types.hpp>

namespace cicada::client {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::none:
      return "no error";
    case ErrorKind::not_connected:
      return "not connected";
    case ErrorKind::connection_lost:
      return "connection lost";
    case ErrorKind::connect_failed:
      return "connect failed";
    case ErrorKind::tls_failed:
      return "TLS failed";
    case ErrorKind::rejected:
      return "rejected";
    case ErrorKind::queue_full:
      return "queue full";
    case ErrorKind::packet_too_large:
      return "packet too large";
    case ErrorKind::invalid_argument:
      return "invalid argument";
    case ErrorKind::protocol_error:
      return "protocol error";
    case ErrorKind::stopped:
      return "stopped";
    case ErrorKind::store_failed:
      return "store failed";
    case ErrorKind::expired:
      return "expired";
  }
  return "unknown error";
}

std::string Error::describe() const {
  std::string text(to_string(kind));
  if (reason != ReasonCode::success) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02X", static_cast<unsigned>(reason));
    text += ": ";
    text += codec::to_string(reason);
    text += " (";
    text += code;
    text += ")";
  }
  if (!message.empty()) {
    text += ": ";
    text += message;
  }
  return text;
}

}  // namespace cicada::client
