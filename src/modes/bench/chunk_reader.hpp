#pragma once

#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <span>
#include <string_view>
#include <system_error>

namespace dschat::bench {

/// What read_when_ready() got: n bytes, or the error (eof at the end of the stream); neither when the
/// socket had nothing after all.
struct ReadyRead {
  std::size_t n = 0;
  std::error_code error;
};

/// Waits until socket (non-blocking) is readable, then reads what it has into buffer: for handshakes, whose
/// buffer is shared by every connection of one thread.
inline asio::awaitable<ReadyRead> read_when_ready(asio::ip::tcp::socket& socket, std::span<char> buffer) {
  ReadyRead read;
  co_await socket.async_wait(asio::ip::tcp::socket::wait_read,
                             asio::redirect_error(asio::use_awaitable, read.error));
  if (read.error) co_return read;
  read.n = socket.read_some(asio::buffer(buffer.data(), buffer.size()), read.error);
  if (read.error == asio::error::would_block || read.error == asio::error::try_again) read.error.clear();
  co_return read;
}

/// Reads socket until end of stream or error, handing each chunk to on_chunk(std::string_view), with
/// readiness waits: for many connections that are mostly quiet. The buffer may be shared by every reader of
/// one thread: a chunk is read only when the socket is ready and is handed out before anything else runs, so
/// 10,000 connections need no 10,000 buffers. Returns asio::error::eof for a clean close, the error otherwise
/// (operation_aborted once we closed it).
template <class OnChunk>
asio::awaitable<std::error_code> read_chunks(asio::ip::tcp::socket& socket, std::span<char> buffer,
                                             OnChunk on_chunk) {
  std::error_code error;
  socket.non_blocking(true, error);
  if (error) co_return error;
  for (;;) {
    // Drain before waiting again: readiness is edge-triggered, and data may already be waiting when
    // the reader starts. A read that did not fill the buffer emptied the socket, so waiting right after
    // it loses nothing and saves the system call that would only return EAGAIN.
    for (int reads = 1;; ++reads) {
      const std::size_t n = socket.read_some(asio::buffer(buffer.data(), buffer.size()), error);
      if (error == asio::error::would_block || error == asio::error::try_again) break;
      if (error) co_return error;
      on_chunk(std::string_view(buffer.data(), n));
      if (n < buffer.size()) break;
      if (reads % 16 == 0) co_await asio::post(asio::use_awaitable);  // let other clients run too
    }
    co_await socket.async_wait(asio::ip::tcp::socket::wait_read,
                               asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return error;
  }
}

/// Reads socket until end of stream or error into its own buffer, handing each chunk to
/// on_chunk(std::string_view): for connections that receive all the time. Asio performs a pending read as
/// soon as the socket is readable, one system call per chunk; a readiness wait (read_chunks) costs an
/// epoll_ctl on top of every read, which on a busy generator is a fifth of its CPU and shows up as latency.
template <class OnChunk>
asio::awaitable<std::error_code> read_stream(asio::ip::tcp::socket& socket, std::span<char> buffer,
                                             OnChunk on_chunk) {
  for (;;) {
    std::error_code error;
    const std::size_t n = co_await socket.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                                          asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return error;
    on_chunk(std::string_view(buffer.data(), n));
  }
}

}  // namespace dschat::bench
