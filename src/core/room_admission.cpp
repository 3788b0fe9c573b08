#include "core/room_admission.hpp"

#include "core/constant_time.hpp"
#include "core/protocol.hpp"

namespace dschat {
namespace {

constexpr std::string_view greeting_line = "* password required — send /pass PASSWORD";
constexpr std::string_view help_line = "* before the password: /pass PASSWORD · /quit · /help";
constexpr std::string_view usage_line = "! usage: /pass PASSWORD";
constexpr std::string_view pass_first = "! send /pass PASSWORD first — /help lists what you may send";
// One reply per number of tries left: the replies stay static text, with no formatting to allocate.
constexpr std::string_view wrong_with_tries[] = {"! wrong password", "! wrong password — 1 try left",
                                                 "! wrong password — 2 tries left"};
constexpr std::string_view timed_out = "! password required";

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t';
}

}  // namespace

std::string_view trim_password(std::string_view text) noexcept {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  return text;
}

std::string_view RoomAdmission::greeting() noexcept {
  return greeting_line;
}

AdmissionStep RoomAdmission::on_line(std::string_view line) noexcept {
  using Action = AdmissionStep::Action;
  if (state_ != AdmissionState::waiting || line.empty()) return {};
  if (!line.starts_with('/')) return {Action::reply, pass_first};
  const std::string_view typed = line.substr(1);
  const std::size_t space = typed.find_first_of(protocol::command_separators);
  const std::string_view command = typed.substr(0, space);
  const std::string_view arg = space == std::string_view::npos ? "" : trim_password(typed.substr(space));
  if (is_command(command, "quit")) return {Action::quit, {}};
  if (is_command(command, "help")) return {Action::reply, help_line};
  if (!is_command(command, "pass")) return {Action::reply, pass_first};
  if (arg.empty()) return {Action::reply, usage_line};  // a slip, not a guess: no try is spent
  if (equal_constant_time(password_, arg)) {
    state_ = AdmissionState::admitted;
    return {Action::admit, {}};
  }
  --tries_left_;
  if (tries_left_ > 0) {
    const auto shown = static_cast<std::size_t>(tries_left_ < 2 ? tries_left_ : 2);
    return {Action::reply, wrong_with_tries[shown]};
  }
  state_ = AdmissionState::refused;
  return {Action::refuse, wrong_with_tries[0]};
}

std::string_view RoomAdmission::expire(Clock::time_point now) noexcept {
  if (state_ != AdmissionState::waiting || now < deadline_) return {};
  state_ = AdmissionState::refused;
  return timed_out;
}

}  // namespace dschat
