#pragma once

// The bench clients' WebSocket upgrade (`--ws`) on a socket; what follows it is WsLink's, fed by the
// readers of chunk_reader.hpp.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "modes/bench/ws_link.hpp"

namespace dschat::bench {

/// Upgrades a connected socket through link, with readiness waits so that buffer may be shared by every
/// upgrade of one thread: writes the request, reads until the server's answer is complete, feeds link what
/// came with it (on_line gets the messages among it) and writes any replies that made. Returns an empty
/// string once the link is open, else why not in a few words.
asio::awaitable<std::string> ws_upgrade(asio::ip::tcp::socket& socket, WsLink& link, std::span<char> buffer,
                                        const std::function<void(std::string_view)>& on_line);

}  // namespace dschat::bench
