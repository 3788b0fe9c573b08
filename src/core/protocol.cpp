#include "core/protocol.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace dschat {

namespace {

/// The shortest text that reads back as value: "300", "1.5", "0.25".
std::string shortest(double value) {
  std::array<char, 32> text{};
  const auto end = std::to_chars(text.data(), text.data() + text.size(), value).ptr;
  return std::string(text.data(), end);
}

}  // namespace

bool is_command(std::string_view typed, std::string_view command) noexcept {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return typed.size() == command.size() && std::equal(typed.begin(), typed.end(), command.begin(),
                                                      [&](char a, char b) { return lower(a) == b; });
}

bool is_quit_command(std::string_view line) noexcept {
  if (!line.starts_with('/')) return false;
  line.remove_prefix(1);
  return is_command(line.substr(0, line.find_first_of(protocol::command_separators)), "quit");
}

bool is_pass_command(std::string_view line) noexcept {
  if (!line.starts_with('/')) return false;
  line.remove_prefix(1);
  return is_command(line.substr(0, line.find_first_of(protocol::command_separators)), "pass");
}

std::string too_long_reply(std::size_t max_line) {
  return "! line too long (max " + std::to_string(max_line) + " bytes)";
}

std::string idle_notice(double seconds) {
  return "! closing: no line for " + shortest(seconds) + " s";
}

std::string slow_down_notice(double rate) {
  return std::string(slow_down_prefix) + "more than " + shortest(rate) + " lines/s, reading paused";
}

std::string slow_down_bytes_notice(std::size_t bytes_per_s) {
  return std::string(slow_down_prefix) + "more than " + format_bytes(bytes_per_s) + "/s, reading paused";
}

std::string format_count(std::size_t n) {
  std::string digits = std::to_string(n);
  for (std::size_t i = digits.size(); i > 3; i -= 3)
    digits.insert(i - 3, 1, ',');
  return digits;
}

std::string format_bytes(std::size_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  static constexpr const char* units[] = {"KiB", "MiB", "GiB"};
  std::size_t unit = 0;
  std::size_t size = std::size_t{1} << 10;
  // Round to tenths first and pick the unit afterwards, so 1048575 bytes reads "1 MiB", not "1024 KiB".
  // Split into whole and remainder so that nothing overflows near SIZE_MAX.
  auto tenths = [&] { return bytes / size * 10 + (bytes % size * 10 + size / 2) / size; };
  while (unit + 1 < std::size(units) && tenths() >= 10240) {
    ++unit;
    size <<= 10;
  }
  const std::size_t t = tenths();
  std::string text = std::to_string(t / 10);
  if (t % 10 != 0) text += "." + std::to_string(t % 10);
  return text + " " + units[unit];
}

}  // namespace dschat
