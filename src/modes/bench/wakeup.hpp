#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <system_error>

namespace dschat::bench {

/// seconds as a steady_clock duration.
inline std::chrono::steady_clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

/// d in seconds.
inline double to_seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

/// A coroutine sleeps here until a deadline or until another coroutine of the same thread notifies it.
/// One waiter at a time. A notify while nobody waits is lost, so a waiter checks its condition right
/// before waiting (no suspension in between, as on one thread nothing else runs then).
class Wakeup {
 public:
  using Clock = std::chrono::steady_clock;

  /// A wake-up on executor's thread.
  explicit Wakeup(const asio::any_io_executor& executor) : timer_(executor) {}

  /// Returns at the deadline or at the next notify, whichever comes first.
  asio::awaitable<void> wait_until(Clock::time_point deadline) {
    timer_.expires_at(deadline);
    std::error_code ignored;  // operation_aborted is the notification itself
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  /// Wakes the waiter, if any.
  void notify() noexcept { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace dschat::bench
