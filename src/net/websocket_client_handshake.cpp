// The upgrade request (RFC 6455 §4.1) and the checks of the server's answer.
#include "websocket_client_handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <string_view>

#include "websocket_handshake.hpp"
#include "websocket_http_fields.hpp"

namespace cicada::net::websocket {

ClientHandshake::ClientHandshake(ClientHandshakeOptions options,
                                 const std::array<std::uint8_t, 16>& nonce)
    : options_(std::move(options)) {
  std::array<unsigned char, 25> encoded{};  // 4 * ceil(16 / 3) characters and a NUL
  const int size = EVP_EncodeBlock(encoded.data(), nonce.data(), static_cast<int>(nonce.size()));
  key_.assign(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(size));
  // [RFC 6455 §4.1] 1-9: an HTTP/1.1 GET of the resource with Host, Upgrade,
  // Connection, the key and version 13; the subprotocol is MQTT's [MQTT-6.0.0-3].
  request_ = "GET " + options_.path + " HTTP/1.1\r\nHost: " + options_.host +
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key_ +
             "\r\nSec-WebSocket-Version: 13\r\n";
  if (!options_.subprotocol.empty()) {
    request_ += "Sec-WebSocket-Protocol: " + options_.subprotocol + "\r\n";
  }
  request_ += "\r\n";
}

std::size_t ClientHandshake::feed(std::span<const std::uint8_t> bytes) {
  if (state_ != State::reading) return 0;
  static constexpr std::string_view end = "\r\n\r\n";
  const std::size_t before = buffer_.size();
  const std::size_t room = options_.max_response_size - before;
  const std::size_t take = std::min(room, bytes.size());
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
  // A status line starts "HTTP/" [RFC 9112 §4]: anything else (an MQTT listener's
  // bytes, a TLS alert) is refused at once rather than after max_response_size.
  static constexpr std::string_view http = "HTTP/";
  const std::size_t prefix = std::min(buffer_.size(), http.size());
  if (!std::equal(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(prefix),
                  http.begin())) {
    fail("the server's answer is not an HTTP response");
    return take;
  }
  // Only the new bytes (and the three before them) can complete the terminator.
  const auto search_from =
      buffer_.begin() + static_cast<std::ptrdiff_t>(before >= 3 ? before - 3 : 0);
  const auto found = std::search(search_from, buffer_.end(), end.begin(), end.end());
  if (found == buffer_.end()) {
    if (buffer_.size() >= options_.max_response_size) {
      fail("the HTTP response header is larger than " + std::to_string(options_.max_response_size) +
           " bytes");
    }
    return take;
  }
  const auto header_size = static_cast<std::size_t>(found - buffer_.begin()) + end.size();
  buffer_.resize(header_size);
  check();
  std::vector<std::uint8_t>().swap(buffer_);
  return header_size - before;
}

void ClientHandshake::check() {
  http::response_parser<http::empty_body> parser;
  // A 101 has no body [RFC 9110 §15.2.2]; any other status is refused, body unread.
  parser.skip(true);
  parser.header_limit(static_cast<std::uint32_t>(options_.max_response_size));
  boost::system::error_code error;
  parser.put(boost::asio::buffer(buffer_.data(), buffer_.size()), error);
  if (error || !parser.is_header_done()) {
    return fail("the server's answer is not an HTTP response (" + error.message() + ")");
  }
  const auto& response = parser.get();
  // [RFC 6455 §4.1] the client's checks of the server's handshake, in its order.
  // 1: anything but 101 ends it (a redirect is not followed here).
  if (response.result_int() != 101) {
    return fail("HTTP " + std::to_string(response.result_int()) + " " +
                std::string(response.reason()) + " instead of 101 Switching Protocols");
  }
  // 2, 3: Upgrade names websocket, Connection names Upgrade.
  if (!has_token(response, http::field::upgrade, "websocket")) {
    return fail("the 101 response has no 'Upgrade: websocket'");
  }
  if (!has_token(response, http::field::connection, "upgrade")) {
    return fail("the 101 response has no 'Connection: Upgrade'");
  }
  // 4: the accept value proves the server read this request's key.
  auto accept = response.find(http::field::sec_websocket_accept);
  if (accept == response.end() ||
      trim({accept->value().data(), accept->value().size()}) != websocket_accept_key(key_)) {
    return fail("Sec-WebSocket-Accept does not match the key sent");
  }
  // 5: no extension was offered, so none may be in use.
  if (response.find(http::field::sec_websocket_extensions) != response.end()) {
    return fail("the server named an extension that was not offered");
  }
  // 6: a subprotocol the server names must be the one offered.
  auto protocol = response.find(http::field::sec_websocket_protocol);
  if (protocol != response.end()) {
    const std::string_view chosen = trim({protocol->value().data(), protocol->value().size()});
    if (chosen != options_.subprotocol) {
      return fail("the server chose subprotocol '" + std::string(chosen) + "', not the '" +
                  options_.subprotocol + "' offered");
    }
    chosen_ = std::string(chosen);
  }
  state_ = State::accepted;
}

void ClientHandshake::fail(std::string why) {
  state_ = State::failed;
  error_ = std::move(why);
  std::vector<std::uint8_t>().swap(buffer_);
}

}  // namespace cicada::net::websocket
