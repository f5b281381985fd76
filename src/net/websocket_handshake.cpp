// The upgrade request's checks (RFC 6455 §4.2.1) and the response (§4.2.2).
#include "websocket_handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstring>

#include "websocket_http_fields.hpp"

namespace cicada::net::websocket {

namespace {

// [RFC 6455 §4.2.1] the key is 16 random bytes in base64: 22 characters and "==".
bool valid_key(std::string_view key) noexcept {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

// RFC 9110 §5.6.2: the characters of a token, such as the request's method.
bool is_tchar(std::uint8_t c) noexcept {
  static constexpr std::string_view others = "!#$%&'*+-.^_`|~";
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         others.find(static_cast<char>(c)) != std::string_view::npos;
}

// False once the bytes so far cannot start a request line: its method is a token
// followed by a space (RFC 9112 §3). Only the first bytes are looked at, so this costs
// the same however the request arrives.
bool could_be_request_line(std::span<const std::uint8_t> bytes) noexcept {
  constexpr std::size_t longest_method_checked = 32;
  for (std::size_t i = 0; i < bytes.size() && i < longest_method_checked; ++i) {
    if (bytes[i] == ' ') return i > 0;
    if (!is_tchar(bytes[i])) return false;
  }
  return true;
}

struct Refusal {
  int status;
  const char* reason;
  const char* extra_headers;
};

Refusal refusal_for(WebSocketError error) noexcept {
  switch (error) {
    case WebSocketError::request_too_large:
      return {431, "Request Header Fields Too Large", ""};
    case WebSocketError::method_not_allowed:
      return {405, "Method Not Allowed", "Allow: GET\r\n"};
    case WebSocketError::not_upgrade:
      return {426, "Upgrade Required", "Upgrade: websocket\r\n"};
    case WebSocketError::bad_version:
      // [RFC 6455 §4.2.2] tell the client the version this side speaks.
      return {426, "Upgrade Required", "Sec-WebSocket-Version: 13\r\n"};
    case WebSocketError::wrong_path:
      return {404, "Not Found", ""};
    case WebSocketError::origin_not_allowed:
      return {403, "Forbidden", ""};
    default:
      return {400, "Bad Request", ""};
  }
}

}  // namespace

std::string websocket_accept_key(std::string_view client_key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(client_key.size() + guid.size());
  input.append(client_key).append(guid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int size = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return {reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(size)};
}

Handshake::Handshake(HandshakeOptions options) : options_(std::move(options)) {}

std::span<std::uint8_t> Handshake::prepare() {
  if (buffer_.empty()) buffer_.resize(options_.max_request_size);
  return {buffer_.data() + size_, buffer_.size() - size_};
}

Handshake::State Handshake::commit(std::size_t n) {
  if (state_ != State::reading) return state_;
  const std::size_t searched_from = size_ >= 3 ? size_ - 3 : 0;
  size_ += n;
  // Not HTTP at all (MQTT or TLS sent to a ws port, which never sends "\r\n\r\n"):
  // refused now rather than after the client's or the broker's timeout.
  if (!could_be_request_line({buffer_.data(), size_})) {
    refuse(WebSocketError::bad_request);
    return state_;
  }
  // Parse once the header's end is there: scanning only the new bytes keeps a
  // client that sends one byte at a time from costing a parse per byte.
  static constexpr std::string_view end = "\r\n\r\n";
  const auto* begin = buffer_.data() + searched_from;
  const auto* stop = buffer_.data() + size_;
  const auto* found = std::search(begin, stop, end.begin(), end.end());
  if (found != stop) {
    request_size_ = static_cast<std::size_t>(found - buffer_.data()) + end.size();
    parse();
  } else if (size_ >= options_.max_request_size) {
    refuse(WebSocketError::request_too_large);
  }
  return state_;
}

std::size_t Handshake::feed(std::span<const std::uint8_t> bytes) {
  std::size_t taken = 0;
  while (state_ == State::reading && taken < bytes.size()) {
    std::span<std::uint8_t> space = prepare();
    const std::size_t n = std::min(space.size(), bytes.size() - taken);
    std::memcpy(space.data(), bytes.data() + taken, n);
    taken += n;
    commit(n);
  }
  return taken;
}

std::span<const std::uint8_t> Handshake::leftover() const noexcept {
  if (state_ != State::accepted) return {};
  return {buffer_.data() + request_size_, size_ - request_size_};
}

void Handshake::parse() {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options_.max_request_size));
  boost::system::error_code error;
  parser.put(boost::asio::buffer(buffer_.data(), request_size_), error);
  if (error == http::error::header_limit) return refuse(WebSocketError::request_too_large);
  // A GET with a body (Content-Length > 0, chunked) is no upgrade request either.
  if (error || !parser.is_done()) return refuse(WebSocketError::bad_request);
  const auto& request = parser.get();
  // [RFC 6455 §4.2.1] 1: an HTTP/1.1 or higher GET; 2: with a Host.
  if (request.method() != http::verb::get) return refuse(WebSocketError::method_not_allowed);
  if (request.version() < 11 || request.find(http::field::host) == request.end())
    return refuse(WebSocketError::bad_request);
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != options_.path) return refuse(WebSocketError::wrong_path);
  if (options_.check_origin) {
    auto origin = request.find(http::field::origin);
    if (origin == request.end()) {
      if (!options_.allow_origin_absence) return refuse(WebSocketError::origin_not_allowed);
    } else {
      const std::string_view value = trim({origin->value().data(), origin->value().size()});
      const bool allowed =
          std::any_of(options_.allowed_origins.begin(), options_.allowed_origins.end(),
                      [value](const std::string& candidate) { return iequals(candidate, value); });
      if (!allowed) return refuse(WebSocketError::origin_not_allowed);
    }
  }
  // 3, 4: Upgrade lists "websocket", Connection lists "Upgrade", case-insensitively.
  if (!has_token(request, http::field::upgrade, "websocket") ||
      !has_token(request, http::field::connection, "upgrade"))
    return refuse(WebSocketError::not_upgrade);
  // 6: version 13, the only one there is.
  auto version = request.find(http::field::sec_websocket_version);
  if (version == request.end() || trim({version->value().data(), version->value().size()}) != "13")
    return refuse(WebSocketError::bad_version);
  // 5: the key.
  auto key_field = request.find(http::field::sec_websocket_key);
  if (key_field == request.end()) return refuse(WebSocketError::bad_key);
  const std::string_view key = trim({key_field->value().data(), key_field->value().size()});
  if (!valid_key(key)) return refuse(WebSocketError::bad_key);
  // [MQTT-6.0.0-3] the subprotocol is "mqtt"; "mqttv3.1" is what MQTT 3.1 clients
  // offer, and mosquitto and EMQX accept it too. "mqtt" wins when both are offered.
  bool offers_mqtt = false;
  bool offers_v31 = false;
  for_each_token(request, http::field::sec_websocket_protocol, [&](std::string_view token) {
    offers_mqtt |= token == "mqtt";
    offers_v31 |= token == "mqttv3.1";
  });
  request_.subprotocol = offers_mqtt ? "mqtt" : offers_v31 ? "mqttv3.1" : "";
  if (request_.subprotocol.empty() && options_.require_subprotocol)
    return refuse(WebSocketError::no_subprotocol);
  request_.path = std::string(path);
  auto forwarded = request.equal_range("X-Forwarded-For");
  for (auto it = forwarded.first; it != forwarded.second; ++it) {
    if (!request_.forwarded_for.empty()) request_.forwarded_for += ", ";
    request_.forwarded_for += trim({it->value().data(), it->value().size()});
  }
  accept(key);
}

void Handshake::refuse(WebSocketError error) {
  state_ = State::refused;
  error_ = error;
  const Refusal refusal = refusal_for(error);
  response_ = "HTTP/1.1 " + std::to_string(refusal.status) + " " + refusal.reason +
              "\r\nConnection: close\r\nContent-Length: 0\r\n" + refusal.extra_headers + "\r\n";
  std::vector<std::uint8_t>().swap(buffer_);
  size_ = request_size_ = 0;
}

void Handshake::accept(std::string_view key) {
  state_ = State::accepted;
  response_ =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      websocket_accept_key(key) + "\r\n";
  // [RFC 6455 §4.2.2] the subprotocol chosen, or no header when none was.
  if (!request_.subprotocol.empty())
    response_ += "Sec-WebSocket-Protocol: " + request_.subprotocol + "\r\n";
  response_ += "\r\n";
}

}  // namespace cicada::net::websocket
