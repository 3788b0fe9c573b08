#include "net/periodic_timer.hpp"

#include <algorithm>
#include <utility>

namespace dschat {

PeriodicTimer::PeriodicTimer(const asio::any_io_executor& executor, Clock::duration period,
                             std::function<void(Clock::time_point)> on_tick)
    : timer_(executor), period_(period), on_tick_(std::move(on_tick)) {}

void PeriodicTimer::start() {
  stopped_ = false;
  wait();
}

void PeriodicTimer::stop() noexcept {
  stopped_ = true;
  timer_.cancel();
}

void PeriodicTimer::wait() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const std::error_code& error) {
    if (error || stopped_) return;
    on_tick_(Clock::now());
    wait();
  });
}

PeriodicTimer::Clock::duration clock_seconds(double seconds) {
  return std::chrono::duration_cast<PeriodicTimer::Clock::duration>(std::chrono::duration<double>(seconds));
}

PeriodicTimer::Clock::duration idle_sweep_period(double timeout_s) {
  return std::clamp<PeriodicTimer::Clock::duration>(clock_seconds(timeout_s) / 4,
                                                    std::chrono::milliseconds(50), std::chrono::seconds(1));
}

}  // namespace dschat
