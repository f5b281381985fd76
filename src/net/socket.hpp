// Socket: the TCP socket type of every broker connection.
// Bound to the worker's io_context executor rather than Asio's default
// any_io_executor, a type-erased executor: that shrinks the socket (88 -> 40 B) and
// every pending wait operation on it, which carries a copy of the executor (144 ->
// 96 B). Idle connections are mostly these two objects (docs/performance.md, issue 6).
// Thread-safety: as any Asio socket, one owner at a time.
#pragma once

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace cicada::net {

using Socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

}  // namespace cicada::net
