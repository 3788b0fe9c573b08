#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>

namespace dschat {

/// Closes a blocking socket without losing what was sent: half-closes, then reads and drops whatever the
/// peer still sends until its EOF or the deadline (closing with unread input would send a RST that can
/// destroy our last reply in flight).
void close_gracefully(asio::ip::tcp::socket& socket, std::chrono::milliseconds linger) noexcept;

}  // namespace dschat
