#include "core/flood_limit.hpp"

#include <algorithm>

namespace dschat {

FloodLimit::FloodLimit(const FloodBudget& budget, Clock::time_point now) noexcept
    : lines_(budget.lines_per_s, budget.line_burst, now),
      // With the line limit off, so is the byte limit: --rate 0 turns the flood limit off.
      bytes_(budget.lines_per_s > 0 ? budget.bytes_per_s : 0, budget.byte_burst, now) {}

void FloodLimit::take_line(std::size_t bytes, Clock::time_point now) noexcept {
  lines_.take(1, now);
  bytes_.take(static_cast<double>(bytes), now);
}

FloodLimit::Clock::duration FloodLimit::wait(Clock::time_point now) const noexcept {
  return std::max(lines_.wait(now), bytes_.wait(now));
}

bool FloodLimit::bytes_over(Clock::time_point now) const noexcept {
  return bytes_.wait(now) > lines_.wait(now);
}

}  // namespace dschat
