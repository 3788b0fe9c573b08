#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dschat {

/// Fixed texts of the wire protocol (docs/protocol.md), without line endings.
namespace protocol {
inline constexpr std::string_view end_command = "end";
inline constexpr std::string_view server_full = "! server full";
/// To a client past --max-per-ip.
inline constexpr std::string_view too_many_from_address = "! too many connections from your address";
inline constexpr std::string_view shutting_down = "* server shutting down";
inline constexpr std::string_view idle_reason = "idle timeout";  ///< a client closed by --idle-timeout
inline constexpr std::string_view command_separators = " \t";    ///< between a chat command and its argument
}  // namespace protocol

/// "! line too long (max N bytes)".
std::string too_long_reply(std::size_t max_line);

/// "! closing: no line for N s" (--idle-timeout), N as given: "300", "1.5".
std::string idle_notice(double seconds);

/// How both slow-down notices start.
inline constexpr std::string_view slow_down_prefix = "! slow down: ";

/// "! slow down: more than 100 lines/s, reading paused", told once to a client the --rate limit paces.
std::string slow_down_notice(double rate);

/// "! slow down: more than 8 KiB/s, reading paused", the same for the --rate-bytes limit.
std::string slow_down_bytes_notice(std::size_t bytes_per_s);

/// A count for people, thousands grouped: "7", "1,240", "12,000".
std::string format_count(std::size_t n);

/// A byte count for people: "512 bytes", "64 KiB", "1 MiB", "1.5 MiB".
std::string format_bytes(std::size_t bytes);

/// True when an echo-service client line asks to close ("end", case-sensitive, nothing else).
inline bool is_end_command(std::string_view line) noexcept {
  return line == protocol::end_command;
}

/// True when typed names command (lower case), ignoring ASCII case: people type /NICK or /Quit.
bool is_command(std::string_view typed, std::string_view command) noexcept;

/// True for a chat line the server reads as /quit: "/quit" alone or with a reason, in any ASCII case.
bool is_quit_command(std::string_view line) noexcept;

/// True for a chat line that is /pass, in any ASCII case: it may hold the room password, so it is never
/// logged.
bool is_pass_command(std::string_view line) noexcept;

}  // namespace dschat
