#pragma once

// The bench clients' TLS: the handshake, and the readers of chunk_reader.hpp with a client TlsEngine
// between the socket and the chunks. Only --tls runs use these; the plaintext path never sees an engine.

#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "net/tls_engine.hpp"

namespace dschat::bench {

/// The error a TLS reader returns when the engine failed: engine.error() says why.
inline std::error_code tls_failed() {
  return std::make_error_code(std::errc::protocol_error);
}

/// Completes the handshake of a client engine over a connected socket, with readiness waits so that buffer
/// may be shared by every handshake of one thread. Returns an empty string once the session is open, else
/// why not in a few words ("TLS handshake failed: ...").
asio::awaitable<std::string> tls_handshake(asio::ip::tcp::socket& socket, TlsEngine& engine,
                                           std::span<char> buffer);

/// Feeds what the engine may now decrypt to on_chunk, plaintext going through the shared buffer plain.
/// Returns false when the session ended (closed, truncated or failed).
template <class OnChunk>
bool drain_plaintext(TlsEngine& engine, std::span<char> plain, OnChunk& on_chunk) {
  for (;;) {
    const std::size_t n = engine.read_plaintext(plain);
    if (n == 0) break;
    on_chunk(std::string_view(plain.data(), n));
  }
  const TlsState state = engine.state();
  return state == TlsState::open || state == TlsState::handshaking;
}

/// What a TLS reader returns once the session ended: eof for a close (with or without close_notify: the
/// server ended the connection either way), tls_failed() for a TLS error.
inline std::error_code tls_end(const TlsEngine& engine) {
  return engine.state() == TlsState::failed ? tls_failed() : std::error_code(asio::error::eof);
}

/// Hands engine what one read of the socket gave: n bytes of buffer, or the end of the stream (error eof),
/// then feeds on_chunk the plaintext it can now decrypt (drain_plaintext). Any other read error is the
/// caller's to handle first. Returns false when the session ended.
template <class OnChunk>
bool feed_read(TlsEngine& engine, const std::error_code& error, std::span<const char> buffer, std::size_t n,
               std::span<char> plain, OnChunk& on_chunk) {
  if (error == asio::error::eof) {
    engine.feed_eof();
  } else {
    engine.feed_ciphertext(std::string_view(buffer.data(), n));
  }
  return drain_plaintext(engine, plain, on_chunk);
}

/// read_stream (chunk_reader.hpp) through engine: ciphertext into the connection's own buffer, plaintext
/// chunks through plain (shared: a chunk is handed out before anything else runs). Whenever reading made
/// ciphertext to send (an alert, a key update), co_awaits flush(), which returns the write's error.
template <class OnChunk, class Flush>
asio::awaitable<std::error_code> read_tls_stream(asio::ip::tcp::socket& socket, TlsEngine& engine,
                                                 std::span<char> buffer, std::span<char> plain,
                                                 OnChunk on_chunk, Flush flush) {
  // What came with the end of the handshake may be waiting in the engine already.
  if (!drain_plaintext(engine, plain, on_chunk)) co_return tls_end(engine);
  for (;;) {
    std::error_code error;
    const std::size_t n = co_await socket.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                                          asio::redirect_error(asio::use_awaitable, error));
    if (error && error != asio::error::eof) co_return error;
    const bool open = feed_read(engine, error, buffer, n, plain, on_chunk);
    if (engine.wants_write()) {
      if (const auto write_error = co_await flush(); write_error && open) co_return write_error;
    }
    if (!open) co_return tls_end(engine);
  }
}

/// read_chunks (chunk_reader.hpp) through engine: readiness waits, so that both buffers may be shared by
/// every reader of one thread. Whenever reading made ciphertext to send, co_awaits flush().
template <class OnChunk, class Flush>
asio::awaitable<std::error_code> read_tls_chunks(asio::ip::tcp::socket& socket, TlsEngine& engine,
                                                 std::span<char> buffer, std::span<char> plain,
                                                 OnChunk on_chunk, Flush flush) {
  std::error_code error;
  socket.non_blocking(true, error);
  if (error) co_return error;
  if (!drain_plaintext(engine, plain, on_chunk)) co_return tls_end(engine);  // as in read_tls_stream
  for (;;) {
    bool open = true;
    for (int reads = 1; open; ++reads) {
      const std::size_t n = socket.read_some(asio::buffer(buffer.data(), buffer.size()), error);
      if (error == asio::error::would_block || error == asio::error::try_again) break;
      if (error && error != asio::error::eof) co_return error;
      open = feed_read(engine, error, buffer, n, plain, on_chunk);
      if (error || n < buffer.size()) break;
      if (reads % 16 == 0) co_await asio::post(asio::use_awaitable);  // let other clients run too
    }
    if (engine.wants_write()) {
      if (const auto write_error = co_await flush(); write_error && open) co_return write_error;
    }
    if (!open) co_return tls_end(engine);
    co_await socket.async_wait(asio::ip::tcp::socket::wait_read,
                               asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return error;
  }
}

}  // namespace dschat::bench
