// Server URI parsing with Boost.URL (header-only: boost/url/src.hpp is compiled in
// url_impl.cpp, because Debian's Boost 1.81 ships no libboost_url).
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include <cicada/client/uri.hpp>

namespace cicada::client {

Expected<ServerUri, std::string> parse_server_uri(std::string_view text) {
  auto parsed = boost::urls::parse_uri(boost::core::string_view(text.data(), text.size()));
  if (!parsed)
    return unexpected("invalid URI '" + std::string(text) + "': " + parsed.error().message());
  const boost::urls::url_view& url = *parsed;
  ServerUri uri;
  std::string scheme(url.scheme());
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::uint16_t default_port = 1883;
  if (scheme == "mqtt" || scheme == "tcp") {
    uri.transport = Transport::tcp;
  } else if (scheme == "mqtts" || scheme == "ssl" || scheme == "tls") {
    uri.transport = Transport::tls;
    default_port = 8883;
  } else if (scheme == "ws") {
    uri.transport = Transport::websocket;
    default_port = 8083;
  } else if (scheme == "wss") {
    uri.transport = Transport::websocket_tls;
    default_port = 8084;
  } else {
    return unexpected("unsupported URI scheme '" + scheme + "' in '" + std::string(text) +
                      "' (use mqtt://, mqtts://, ws:// or wss://)");
  }
  if (!url.has_authority() || url.encoded_host().empty())
    return unexpected("no host in URI '" + std::string(text) + "'");
  if (url.host_type() == boost::urls::host_type::ipv6) {
    uri.host = std::string(url.host_ipv6_address().to_string());
  } else {
    uri.host = std::string(url.host());
  }
  uri.port = default_port;
  if (url.has_port()) {
    auto port_text = url.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      return unexpected("invalid port in URI '" + std::string(text) + "'");
    uri.port = static_cast<std::uint16_t>(value);
  }
  uri.path = url.path().empty() ? std::string("/mqtt") : std::string(url.path());
  return uri;
}

}  // namespace cicada::client
