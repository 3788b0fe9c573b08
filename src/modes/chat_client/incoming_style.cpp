#include "modes/chat_client/incoming_style.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <ctime>
#include <functional>

namespace dschat {

namespace {

constexpr std::string_view reset_style = "\033[0m";
constexpr std::string_view notice_style = "\033[36m";   // cyan: `* ` lines from the server
constexpr std::string_view error_style = "\033[1;31m";  // bold red: `! ` lines meant for us
constexpr std::string_view time_style = "\033[2m";      // dim: the timestamp is secondary

// Each name keeps one colour for the whole session, so a conversation is easy to follow; cyan and red
// are left out because they already mean notice and error.
constexpr std::array<std::string_view, 6> name_colours = {"\033[1;32m", "\033[1;33m", "\033[1;34m",
                                                          "\033[1;35m", "\033[1;92m", "\033[1;94m"};

std::string_view name_colour(std::string_view name) noexcept {
  return name_colours[std::hash<std::string_view>{}(name) % name_colours.size()];
}

}  // namespace

bool colour_wanted(bool interactive) noexcept {
  // https://no-color.org: present and not empty means no colour.
  const char* no_color = std::getenv("NO_COLOR");
  return interactive && (no_color == nullptr || *no_color == '\0');
}

std::string style_line(std::string_view sanitized, const IncomingStyle& style) {
  std::string out;
  if (style.timestamps) {
    const std::string stamp = fmt::format("[{:%H:%M:%S}] ", fmt::localtime(std::time(nullptr)));
    out = style.colour ? fmt::format("{}{}{}", time_style, stamp, reset_style) : stamp;
  }
  if (!style.colour) {
    out += sanitized;
    return out;
  }
  if (sanitized.starts_with("* ")) {
    fmt::format_to(std::back_inserter(out), "{}{}{}", notice_style, sanitized, reset_style);
  } else if (sanitized.starts_with("! ")) {
    fmt::format_to(std::back_inserter(out), "{}{}{}", error_style, sanitized, reset_style);
  } else if (const auto close = sanitized.find("> "); sanitized.starts_with('<') && close != sanitized.npos) {
    const std::string_view name = sanitized.substr(0, close + 1);
    fmt::format_to(std::back_inserter(out), "{}{}{}{}", name_colour(name), name, reset_style,
                   sanitized.substr(close + 1));
  } else {
    out += sanitized;
  }
  return out;
}

}  // namespace dschat
