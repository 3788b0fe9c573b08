#pragma once

#include <string>
#include <string_view>

namespace dschat {

/// How incoming chat lines are dressed up before printing.
struct IncomingStyle {
  bool colour = false;      ///< ANSI colours for `<name>`, `* ` notices and `! ` errors
  bool timestamps = false;  ///< "[HH:MM:SS] " local time prefix
};

/// True when colours are wanted: a terminal on stdin and stdout and NO_COLOR unset or empty.
bool colour_wanted(bool interactive) noexcept;

/// The already sanitized line with the style applied; unchanged when style has nothing on.
std::string style_line(std::string_view sanitized, const IncomingStyle& style);

}  // namespace dschat
