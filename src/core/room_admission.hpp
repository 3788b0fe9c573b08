#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace dschat {

/// Where one connection stands with a room that has a password (docs/protocol.md, Password).
enum class AdmissionState {
  waiting,   ///< connected, not a member: may only /pass, /quit, /help
  admitted,  ///< gave the password: the caller joins it to the room
  refused,   ///< out of tries or of time: the caller sends the reply and closes
};

/// What the caller does after a line from a connection that is not a member yet.
struct AdmissionStep {
  enum class Action {
    none,    ///< nothing (an empty line)
    reply,   ///< send text to the connection, keep waiting
    admit,   ///< the password was right: join the room (text is empty)
    refuse,  ///< send text, then close the connection
    quit,    ///< the connection asked to leave (/quit): close it
  };
  Action action = Action::none;
  std::string_view text;  ///< the line to send, without its ending; points into static storage
};

/// The admission of one connection to a room with a password, without any I/O: a line at a time, with the
/// time passed in. Three wrong passwords or no right one before the deadline refuse the connection. The
/// password is compared in constant time and never copied into a reply.
class RoomAdmission {
 public:
  using Clock = std::chrono::steady_clock;

  /// Wrong passwords allowed before the connection is refused.
  static constexpr int max_tries = 3;

  /// A connection that must give password (not owned: it must outlive this) before deadline.
  RoomAdmission(std::string_view password, Clock::time_point deadline) noexcept
      : password_(password), deadline_(deadline) {}

  /// The line to send once at connect: "* password required — send /pass PASSWORD".
  static std::string_view greeting() noexcept;

  /// Handles one framed line (without its ending) while waiting; after that, Action::none.
  AdmissionStep on_line(std::string_view line) noexcept;

  /// Refuses a waiting connection whose deadline has passed at now; then returns the reply to send
  /// ("! password required"). Otherwise (still in time, or no longer waiting) returns an empty view.
  std::string_view expire(Clock::time_point now) noexcept;

  AdmissionState state() const noexcept { return state_; }

  /// Wrong passwords still allowed.
  int tries_left() const noexcept { return tries_left_; }

 private:
  std::string_view password_;
  Clock::time_point deadline_;
  int tries_left_ = max_tries;
  AdmissionState state_ = AdmissionState::waiting;
};

/// The leading and trailing blanks of a password are not part of it (a /pass argument drops them too).
std::string_view trim_password(std::string_view text) noexcept;

}  // namespace dschat
