#pragma once

#include <chrono>

namespace dschat {

/// Flood limiter (--rate, docs/protocol.md): a token bucket that may go into debt. The server takes
/// one token per line read and stops reading a client while wait() is not zero — TCP backpressure, nothing
/// dropped. Time is passed in, so the bucket is tested without sleeping.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  /// rate tokens per second, at most burst stored; rate <= 0 means unlimited. Starts full at `now`.
  TokenBucket(double rate, double burst, Clock::time_point now) noexcept;

  /// Takes n tokens; the balance may go negative.
  void take(double n, Clock::time_point now) noexcept;

  /// How long until the balance is no longer negative; zero when reading may go on.
  Clock::duration wait(Clock::time_point now) const noexcept;

  /// True when the bucket never limits.
  bool unlimited() const noexcept { return rate_ <= 0; }

 private:
  void refill(Clock::time_point now) noexcept;

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace dschat
