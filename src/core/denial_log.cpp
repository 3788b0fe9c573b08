#include "core/denial_log.hpp"

namespace dschat {

std::optional<std::string> DenialLog::denied(std::string_view peer, Clock::time_point now) {
  if (counted_ == 0 && now >= quiet_until_) {
    quiet_until_ = now + interval;
    return "denied " + std::string(peer);
  }
  ++counted_;
  last_peer_ = peer;
  return std::nullopt;
}

std::optional<DenialLog::Clock::time_point> DenialLog::due() const noexcept {
  if (counted_ == 0) return std::nullopt;
  return quiet_until_;
}

std::optional<std::string> DenialLog::flush(Clock::time_point now, bool force) {
  if (counted_ == 0 || (!force && now < quiet_until_)) return std::nullopt;
  std::string line = "denied " + last_peer_;
  if (counted_ > 1) line += " (and " + std::to_string(counted_ - 1) + " more in the last second)";
  counted_ = 0;
  // This line counts as one: the next denial is counted until a second has passed since it.
  quiet_until_ = now + interval;
  return line;
}

}  // namespace dschat
