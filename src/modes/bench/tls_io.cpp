#include "modes/bench/tls_io.hpp"

#include <fmt/format.h>

#include <asio/write.hpp>

#include "modes/bench/chunk_reader.hpp"
#include "net/endpoint.hpp"

namespace dschat::bench {

asio::awaitable<std::string> tls_handshake(asio::ip::tcp::socket& socket, TlsEngine& engine,
                                           std::span<char> buffer) {
  std::error_code error;
  socket.non_blocking(true, error);
  while (!error && engine.state() == TlsState::handshaking) {
    if (engine.wants_write()) {
      const std::string bytes = engine.take_ciphertext();
      co_await asio::async_write(socket, asio::buffer(bytes),
                                 asio::redirect_error(asio::use_awaitable, error));
      if (error) break;
    }
    const ReadyRead read = co_await read_when_ready(socket, buffer);
    error = read.error;
    if (error == asio::error::eof) {
      error.clear();
      engine.feed_eof();
    } else if (!error && read.n > 0) {
      engine.feed_ciphertext(std::string_view(buffer.data(), read.n));
    }
  }
  if (!error && engine.wants_write()) {
    // The client's last handshake message, or the alert that says why it gave up.
    const std::string bytes = engine.take_ciphertext();
    std::error_code ignored;
    co_await asio::async_write(socket, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, ignored));
  }
  if (error) co_return fmt::format("TLS handshake failed: {}", describe(error));
  if (engine.state() == TlsState::failed) co_return fmt::format("TLS handshake failed: {}", engine.error());
  if (!engine.handshake_done()) co_return "TLS handshake failed: the server closed the connection";
  co_return std::string();
}

}  // namespace dschat::bench
