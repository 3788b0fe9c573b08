#include "modes/threaded/connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "net/graceful_close.hpp"

namespace dschat::threaded {

namespace {
// Once the server is stopping, a peer that keeps talking must not hold up the exit.
constexpr std::chrono::milliseconds stopping_linger{200};
}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, std::string peer)
    : socket_(std::move(socket)),
      peer_(std::move(peer)),
      fd_(socket_.native_handle()),
      last_heard_(std::chrono::steady_clock::now().time_since_epoch().count()) {}

void Connection::heard() noexcept {
  last_heard_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

bool Connection::expire_if_silent_since(std::chrono::steady_clock::time_point cutoff) noexcept {
  if (last_heard_.load(std::memory_order_relaxed) >= cutoff.time_since_epoch().count()) return false;
  const std::scoped_lock lock(mutex_);
  if (idle_.exchange(true, std::memory_order_acq_rel)) return false;
  // As request_stop(): the blocked read sees end of stream, the output can still be flushed.
  if (open_) ::shutdown(fd_, SHUT_RD);
  wake_.notify_all();
  return true;
}

void Connection::request_stop() noexcept {
  const std::scoped_lock lock(mutex_);
  stop_.store(true, std::memory_order_release);
  // SHUT_RD wakes a blocked recv with end of stream but leaves the sending side for the final flush.
  if (open_) ::shutdown(fd_, SHUT_RD);
  wake_.notify_all();
}

void Connection::abort() noexcept {
  const std::scoped_lock lock(mutex_);
  // Only while open: after close() the descriptor number may already belong to another connection.
  if (open_) ::shutdown(fd_, SHUT_RDWR);
}

void Connection::sleep_for(std::chrono::steady_clock::duration d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stop_.load(std::memory_order_relaxed); });
}

void Connection::close(std::chrono::milliseconds linger) noexcept {
  {
    const std::scoped_lock lock(mutex_);
    open_ = false;
  }
  close_gracefully(socket_, stop_requested() ? std::min(linger, stopping_linger) : linger);
}

bool take_token(FloodLimit& bucket, std::size_t bytes) noexcept {
  if (bucket.unlimited()) return false;
  const auto now = FloodLimit::Clock::now();
  bucket.take_line(bytes, now);
  return bucket.wait(now) > FloodLimit::Clock::duration::zero();
}

void pause_reading(FloodLimit& bucket, Connection& connection) {
  // Not reading is the backpressure: the client's own TCP window fills and its sends block.
  connection.sleep_for(bucket.wait(FloodLimit::Clock::now()));
}

void pace(FloodLimit& bucket, std::size_t bytes, Connection& connection) {
  if (take_token(bucket, bytes)) pause_reading(bucket, connection);
}

}  // namespace dschat::threaded
