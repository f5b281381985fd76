// FakeBroker: a scripted MQTT server for client tests. The test thread accepts,
// reads and writes packets with blocking calls; every read gives up after 10 s, so
// a misbehaving client fails the test instead of hanging it.
// Thread-safety: the test thread only.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>

#include <cicada/codec/encode.hpp>
#include <cicada/codec/parser.hpp>

namespace cicada::client::testing {

namespace asio = boost::asio;

class FakeConnection {
 public:
  FakeConnection(asio::ip::tcp::socket socket, codec::ProtocolVersion version)
      : socket_(std::move(socket)), parser_({.version = version}), version_(version) {
    timeval tv{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // The next packet, or nullopt when the client closed the connection (or 10 s passed).
  std::optional<codec::ParsedPacket> read() {
    for (;;) {
      auto next = parser_.next();
      if (!next) return std::nullopt;
      if (*next) return std::move(**next);
      auto space = parser_.prepare(4096);
      boost::system::error_code ec;
      std::size_t n = socket_.read_some(asio::buffer(space.data(), space.size()), ec);
      if (ec) return std::nullopt;
      parser_.commit(n);
    }
  }

  template <class T>
  std::optional<T> read_as() {
    auto parsed = read();
    if (!parsed) return std::nullopt;
    if (auto* p = std::get_if<T>(&parsed->packet)) {
      last_owner_ = parsed->owner;
      return *p;
    }
    return std::nullopt;
  }

  void write(const codec::Packet& packet) {
    auto bytes = codec::encode_to_string(packet, version_);
    asio::write(socket_, asio::buffer(bytes));
  }

  void close() {
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  asio::ip::tcp::socket socket_;
  codec::Parser parser_;
  codec::ProtocolVersion version_;
  SharedBuffer last_owner_;  // keeps views of the last packet read valid
};

class FakeBroker {
 public:
  explicit FakeBroker(codec::ProtocolVersion version = codec::ProtocolVersion::v5)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), version_(version) {}

  std::string uri() const {
    return "mqtt://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  FakeConnection accept() {
    asio::ip::tcp::socket socket(io_);
    acceptor_.accept(socket);
    return FakeConnection(std::move(socket), version_);
  }

  void close() { acceptor_.close(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  codec::ProtocolVersion version_;
};

}  // namespace cicada::client::testing
