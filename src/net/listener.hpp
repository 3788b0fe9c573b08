#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace dschat {

/// Opens a listening socket on host:port with SO_REUSEADDR (port 0 picks a free port); tries each
/// resolved address in turn and throws Error("cannot listen on HOST:PORT: …") when none works.
asio::ip::tcp::acceptor listen_on(asio::io_context& io, const std::string& host, std::uint16_t port);

/// Prints "listening on HOST:PORT" on stdout and flushes: scripts and tests wait for this line.
void announce_listening(const asio::ip::tcp::acceptor& acceptor);

}  // namespace dschat
