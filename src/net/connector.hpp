#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace dschat {

/// Connects to host:port, trying each resolved address (blocking); throws
/// Error("cannot connect to HOST:PORT: …") when none accepts. Sets TCP_NODELAY.
asio::ip::tcp::socket connect_to(asio::io_context& io, const std::string& host, std::uint16_t port);

}  // namespace dschat
