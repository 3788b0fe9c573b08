#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace dschat {

/// Calls a function every period on an executor, with the time, until stop(). A server keeps one per job
/// (the --idle-timeout sweep, the chat room's clock), not one per client: an idle connection costs no
/// more for it.
class PeriodicTimer {
 public:
  using Clock = std::chrono::steady_clock;

  PeriodicTimer(const asio::any_io_executor& executor, Clock::duration period,
                std::function<void(Clock::time_point)> on_tick);

  PeriodicTimer(const PeriodicTimer&) = delete;
  PeriodicTimer& operator=(const PeriodicTimer&) = delete;

  /// Starts ticking: the first call comes one period from now.
  void start();

  /// No more calls.
  void stop() noexcept;

 private:
  void wait();

  asio::steady_timer timer_;
  Clock::duration period_;
  std::function<void(Clock::time_point)> on_tick_;
  bool stopped_ = false;
};

/// seconds as a duration of the timer's clock.
PeriodicTimer::Clock::duration clock_seconds(double seconds);

/// How often to look for clients silent for --idle-timeout seconds: a quarter of it, within 50 ms to 1 s,
/// so a client is closed between timeout and timeout + period after its last line.
PeriodicTimer::Clock::duration idle_sweep_period(double timeout_s);

/// How often the chat room's clock moves (ChatRoom::tick): a newcomer's delayed join notice goes out
/// within this much of its time.
inline constexpr std::chrono::milliseconds room_tick_period{100};

}  // namespace dschat
