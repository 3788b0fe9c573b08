#include "net/idle_sweep.hpp"

#include <algorithm>
#include <utility>

namespace dschat {

IdleSweep::IdleSweep(const asio::any_io_executor& executor, double timeout_s,
                     std::function<void(Clock::time_point)> expire)
    : timer_(executor),
      timeout_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s))),
      // A client is closed between timeout and timeout + period after its last line.
      period_(
          std::clamp<Clock::duration>(timeout_ / 4, std::chrono::milliseconds(50), std::chrono::seconds(1))),
      expire_(std::move(expire)) {}

void IdleSweep::start() {
  if (timeout_ > Clock::duration::zero()) wait();
}

void IdleSweep::stop() noexcept {
  stopped_ = true;
  timer_.cancel();
}

void IdleSweep::wait() {
  timer_.expires_after(period_);
  timer_.async_wait([this](const std::error_code& error) {
    if (error || stopped_) return;
    expire_(Clock::now() - timeout_);
    wait();
  });
}

}  // namespace dschat
