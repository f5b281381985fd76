#include "format.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace cicada::tools {

namespace {

void append_iso_time(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S%z", &tm);
  out += buffer;
}

}  // namespace

std::string format_message(const client::ReceivedMessage& m, const std::string* format,
                           bool verbose, bool no_newline) {
  std::string out;
  if (!format) {
    if (verbose) {
      out += m.topic;
      out += ' ';
      // mosquitto_sub -v prints an empty payload as "(null)".
      out += m.payload.empty() ? std::string_view("(null)") : m.payload;
    } else {
      out += m.payload;
    }
    if (!no_newline) out += '\n';
    return out;
  }
  const std::string& f = *format;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '%' && i + 1 < f.size()) {
      const char k = f[++i];
      switch (k) {
        case 't':
          out += m.topic;
          break;
        case 'p':
          out += m.payload;
          break;
        case 'q':
          out += std::to_string(static_cast<int>(m.qos));
          break;
        case 'r':
          out += m.retain ? '1' : '0';
          break;
        case 'l':
          out += std::to_string(m.payload.size());
          break;
        case 'm':
          out += '0';
          break;  // packet ids are not exposed by the library
        case 'I':
          append_iso_time(out);
          break;
        case 'U': {
          const auto now = std::chrono::system_clock::now().time_since_epoch();
          const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
          char buffer[48];
          std::snprintf(buffer, sizeof buffer, "%lld.%09lld",
                        static_cast<long long>(ns / 1'000'000'000),
                        static_cast<long long>(ns % 1'000'000'000));
          out += buffer;
          break;
        }
        case 'x':
          for (char ch : m.payload) {
            const auto b = static_cast<unsigned char>(ch);
            char hex[3];
            std::snprintf(hex, sizeof hex, "%02x", b);
            out += hex;
          }
          break;
        case 'S':
          // mosquitto_sub prints the first Subscription Identifier, nothing if none.
          if (!m.properties.subscription_identifiers.empty())
            out += std::to_string(m.properties.subscription_identifiers.front());
          break;
        case 'P':
          for (std::size_t u = 0; u < m.properties.user_properties.size(); ++u) {
            if (u > 0) out += ' ';
            out += m.properties.user_properties[u].first;
            out += ':';
            out += m.properties.user_properties[u].second;
          }
          break;
        case '%':
          out += '%';
          break;
        default:
          out += '%';
          out += k;
      }
    } else if (c == '\\' && i + 1 < f.size()) {
      const char k = f[++i];
      switch (k) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case '\\':
          out += '\\';
          break;
        case '0':
          out += '\0';
          break;
        default:
          out += '\\';
          out += k;
      }
    } else {
      out += c;
    }
  }
  if (!no_newline) out += '\n';
  return out;
}

}  // namespace cicada::tools
