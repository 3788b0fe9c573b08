#pragma once

#include <cstddef>

#include "core/token_bucket.hpp"

namespace dschat {

/// What a client may send before the server stops reading it (docs/protocol.md, "Limits and closing").
struct FloodBudget {
  double lines_per_s = 0;  ///< 0: the flood limit is off, lines and bytes
  double line_burst = 0;
  double bytes_per_s = 0;  ///< 0: lines only
  double byte_burst = 0;
};

/// The flood limit of one client: a line costs one line and its bytes (LF included), from two token
/// buckets that may go into debt; reading stops while either is in debt. Counting lines alone let 100
/// lines/s of 4 KiB each through, 400 KB/s per sender to every member of the room.
class FloodLimit {
 public:
  using Clock = TokenBucket::Clock;

  /// Both buckets start full at `now`.
  FloodLimit(const FloodBudget& budget, Clock::time_point now) noexcept;

  /// Charges one line of `bytes` bytes.
  void take_line(std::size_t bytes, Clock::time_point now) noexcept;

  /// How long until neither bucket is in debt; zero when reading may go on.
  Clock::duration wait(Clock::time_point now) const noexcept;

  /// True when nothing is limited.
  bool unlimited() const noexcept { return lines_.unlimited(); }

  /// True when the bytes, not the lines, keep reading paused at `now`.
  bool bytes_over(Clock::time_point now) const noexcept;

 private:
  TokenBucket lines_;
  TokenBucket bytes_;
};

}  // namespace dschat
