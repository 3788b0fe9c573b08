#include "modes/bench/ws_io.hpp"

#include <fmt/format.h>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "modes/bench/chunk_reader.hpp"
#include "net/endpoint.hpp"

namespace dschat::bench {

asio::awaitable<std::string> ws_upgrade(asio::ip::tcp::socket& socket, WsLink& link, std::span<char> buffer,
                                        const std::function<void(std::string_view)>& on_line) {
  std::error_code error;
  co_await asio::async_write(socket, asio::buffer(link.request()),
                             asio::redirect_error(asio::use_awaitable, error));
  if (!error) socket.non_blocking(true, error);
  while (!error && link.state() == WsLinkState::upgrading) {
    const ReadyRead read = co_await read_when_ready(socket, buffer);
    error = read.error;
    if (error == asio::error::eof) co_return "WebSocket upgrade failed: the server closed the connection";
    if (!error) link.feed(std::string_view(buffer.data(), read.n), on_line);
  }
  if (error) co_return fmt::format("WebSocket upgrade failed: {}", describe(error));
  if (link.wants_write()) {
    // Pongs, or the close answering the server's: a few bytes into a new connection's send buffer.
    const std::string replies = link.take_replies();
    co_await asio::async_write(socket, asio::buffer(replies),
                               asio::redirect_error(asio::use_awaitable, error));
  }
  if (link.state() == WsLinkState::ended) co_return link.error();
  co_return std::string();
}

}  // namespace dschat::bench
