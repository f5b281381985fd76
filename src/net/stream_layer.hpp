// StreamLayer: a protocol layer between a broker connection and its TCP socket (TLS,
// WebSocket, WebSocket over TLS), in the readiness style the connection already uses
// for plain TCP: the connection waits on the socket itself (async_wait), then calls
// read_some / write_some, which never block. A plain TCP connection has no layer at
// all, so it pays nothing for this (no allocation, no virtual call).
// Handshakes (TLS, the WebSocket HTTP upgrade) run inside read_some: it yields no
// application bytes until they are done, and may need to write to make progress.
// Knows no MQTT (DESIGN.md: net).
// Thread-safety: single owner, the connection's worker.
#pragma once

#include <sys/uio.h>

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "net/socket.hpp"

namespace cicada::net {

// What the peer proved at the handshake; empty fields when it proved nothing.
struct PeerIdentity {
  std::string subject;      // the client certificate's subject, RFC 2253 ("CN=alice,O=Acme")
  std::string common_name;  // its CN
};

class StreamLayer {
 public:
  // The socket readiness a layer waits for after would_block: TLS may have to write
  // to read (a handshake message) or read to write.
  enum class Wait { readable, writable };

  virtual ~StreamLayer() = default;

  // Like a non-blocking socket read: returns > 0 application bytes written to `into`;
  // or 0 with `error` set: boost::asio::error::would_block (wait for read_wants(),
  // then call again), boost::asio::error::eof (orderly end), or a fatal error.
  virtual std::size_t read_some(Socket& socket, std::span<std::uint8_t> into,
                                boost::system::error_code& error) = 0;
  virtual Wait read_wants() const noexcept = 0;
  // Application bytes are already decoded and waiting inside the layer: call
  // read_some again now rather than waiting on the socket, which may stay quiet.
  virtual bool read_buffered() const noexcept = 0;

  // Like sendmsg: takes as much of `buffers` as it can now and returns how many bytes
  // it took (0 with would_block when none). Bytes taken are never offered again; the
  // layer may hold them, encoded, until the socket accepts them (write_pending()):
  // then wait for write_wants() and call write_some again (empty `buffers` is fine).
  virtual std::size_t write_some(Socket& socket, std::span<const iovec> buffers,
                                 boost::system::error_code& error) = 0;
  virtual Wait write_wants() const noexcept = 0;
  virtual bool write_pending() const noexcept = 0;

  // The orderly end as far as it goes without blocking (TLS close_notify, WebSocket
  // Close frame); the caller closes the socket afterwards.
  virtual void shutdown(Socket& socket) noexcept = 0;

  // The client certificate, when the handshake checked one; nullptr otherwise.
  virtual const PeerIdentity* peer_identity() const noexcept { return nullptr; }
};

}  // namespace cicada::net
