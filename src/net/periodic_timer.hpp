#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace dschat {

/// --idle-timeout for a server (docs/protocol.md, limits): every quarter of the timeout (at most 1 s) calls
/// expire with the time before which a client that has sent nothing is idle, until stop(). One timer for the
/// whole server, not one per client: an idle connection costs no more than before.
class IdleSweep {
 public:
  using Clock = std::chrono::steady_clock;

  /// A sweep on executor for timeout_s seconds (0: none at all); expire closes the clients silent since
  /// the time it is given.
  IdleSweep(const asio::any_io_executor& executor, double timeout_s,
            std::function<void(Clock::time_point)> expire);

  IdleSweep(const IdleSweep&) = delete;
  IdleSweep& operator=(const IdleSweep&) = delete;

  /// Starts sweeping, unless the timeout is 0.
  void start();

  /// No more sweeps.
  void stop() noexcept;

 private:
  void wait();

  asio::steady_timer timer_;
  Clock::duration timeout_;
  Clock::duration period_;
  std::function<void(Clock::time_point)> expire_;
  bool stopped_ = false;
};

}  // namespace dschat
