#pragma once

#include <asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "core/flood_limit.hpp"

namespace dschat::threaded {

/// One accepted client of the threaded server. Its threads do blocking I/O on socket(); the server thread
/// may only wake them (request_stop, abort) — never read, write or close — until the client thread
/// calls close().
class Connection {
 public:
  /// Takes an accepted, blocking socket; peer is its printable address.
  Connection(asio::ip::tcp::socket socket, std::string peer);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The socket, for the client's own threads.
  asio::ip::tcp::socket& socket() noexcept { return socket_; }

  /// The descriptor, for the client's own threads and the flushers writing its output (ChatOutput).
  int fd() const noexcept { return fd_; }

  /// "127.0.0.1:40312".
  const std::string& peer() const noexcept { return peer_; }

  /// Server shutting down: wakes a blocked read (it sees end of stream) and a pacing sleep; output can
  /// still be flushed.
  void request_stop() noexcept;

  /// True once request_stop() was called.
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_acquire); }

  /// Client thread: the client sent a line now (for --idle-timeout).
  void heard() noexcept;

  /// Server thread: when the client has sent nothing since cutoff, wakes its blocked read as
  /// request_stop() does and marks it idle (its thread then says so and closes); returns true then.
  bool expire_if_silent_since(std::chrono::steady_clock::time_point cutoff) noexcept;

  /// True once expire_if_silent_since() cut the client off.
  bool idle() const noexcept { return idle_.load(std::memory_order_acquire); }

  /// Cuts both directions: every blocked read and write on the socket returns at once. Never blocks.
  void abort() noexcept;

  /// Sleeps for up to d; returns early when stop is requested.
  void sleep_for(std::chrono::steady_clock::duration d);

  /// Client thread, once its I/O is over: closes gracefully (see close_gracefully), waiting at most
  /// linger for the peer's EOF (less when stopping). Afterwards the server no longer touches the socket.
  void close(std::chrono::milliseconds linger) noexcept;

 private:
  asio::ip::tcp::socket socket_;
  std::string peer_;
  int fd_;  // kept apart from socket_ so the server thread never reads the socket object
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> idle_{false};
  std::atomic<std::chrono::steady_clock::rep> last_heard_;  // time_since_epoch of the last line
  bool open_ = true;  // guarded by mutex_: fd_ may be shut down only while open
};

/// Takes the --rate token of one line read; true when the client is in debt and reading must pause.
bool take_token(FloodLimit& bucket, std::size_t bytes) noexcept;

/// Sleeps (stops reading the client) until the bucket is no longer negative or the server stops.
void pause_reading(FloodLimit& bucket, Connection& connection);

/// Applies --rate to one line just read: take_token, then pause_reading when the client is in debt.
void pace(FloodLimit& bucket, std::size_t bytes, Connection& connection);

}  // namespace dschat::threaded
