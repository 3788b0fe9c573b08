#include "core/token_bucket.hpp"

#include <algorithm>

namespace dschat {
namespace {

using Seconds = std::chrono::duration<double>;

// Floating-point refill can land a hair below zero at the exact moment wait() promised; treating such
// crumbs as zero keeps the caller from sleeping a second time for one nanosecond.
constexpr double epsilon = 1e-9;

// Caps a wait so that converting it to the clock's integer ticks cannot overflow, whatever the debt.
constexpr double max_wait_seconds = 1e9;

}  // namespace

TokenBucket::TokenBucket(double rate, double burst, Clock::time_point now) noexcept
    : rate_(rate), burst_(std::max(burst, 0.0)), tokens_(burst_), last_(now) {}

void TokenBucket::refill(Clock::time_point now) noexcept {
  // A time point older than the last one (callers on several threads) must not take tokens away.
  if (now <= last_) return;
  tokens_ = std::min(burst_, tokens_ + rate_ * Seconds(now - last_).count());
  last_ = now;
}

void TokenBucket::take(double n, Clock::time_point now) noexcept {
  if (unlimited()) return;
  refill(now);
  tokens_ -= n;
}

TokenBucket::Clock::duration TokenBucket::wait(Clock::time_point now) const noexcept {
  if (unlimited()) return Clock::duration::zero();
  // wait() is const: compute the balance refill() would reach without storing it.
  const double elapsed = now > last_ ? Seconds(now - last_).count() : 0.0;
  const double balance = std::min(burst_, tokens_ + rate_ * elapsed);
  if (balance >= -epsilon) return Clock::duration::zero();
  const double seconds = std::min(-balance / rate_, max_wait_seconds);
  // Rounded up so that waiting exactly this long always ends the debt.
  return std::max(std::chrono::ceil<Clock::duration>(Seconds(seconds)), Clock::duration(1));
}

}  // namespace dschat
