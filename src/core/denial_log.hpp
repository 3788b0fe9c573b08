#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dschat {

/// The log of connections refused by --allow/--deny, at most one line per second (docs/protocol.md, limits):
/// the first denial is told at once; those that follow within the second are counted and told together in
/// one line when the second is over. Time is passed in, so it is tested without sleeping.
class DenialLog {
 public:
  using Clock = std::chrono::steady_clock;

  /// The least time between two lines.
  static constexpr Clock::duration interval = std::chrono::seconds(1);

  /// A connection from peer was denied at now: the line to log now ("denied 127.0.0.2:40312"), or nullopt
  /// when it is only counted (then call flush() at due()).
  std::optional<std::string> denied(std::string_view peer, Clock::time_point now);

  /// When the counted denials may be told; nullopt when none is counted.
  std::optional<Clock::time_point> due() const noexcept;

  /// The line telling the counted denials ("denied 127.0.0.2:40400 (and 36 more in the last second)") once
  /// due() has come, or at once with force (at shutdown); nullopt when there is nothing to tell yet.
  std::optional<std::string> flush(Clock::time_point now, bool force = false);

 private:
  Clock::time_point quiet_until_ = Clock::time_point::min();  // no line before this
  std::uint64_t counted_ = 0;                                 // denials not told yet
  std::string last_peer_;                                     // the last of them
};

}  // namespace dschat
