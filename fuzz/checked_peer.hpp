#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "core/chat_room.hpp"
#include "reference.hpp"

namespace dschat::fuzz {

/// A ChatPeer that checks every message is one terminal-safe line (valid UTF-8, no control characters
/// but TAB, one LF at the end and nowhere else) and records its text.
struct CheckedPeer final : ChatPeer {
  std::vector<std::string> got;  ///< texts received, without their LF

  void send(const Message& msg) override {
    check(msg != nullptr, "null message");
    const std::string& line = *msg;
    check(!line.empty() && line.find('\n') == line.size() - 1, "message is not one line ending in LF", line);
    const std::string_view text(line.data(), line.size() - 1);
    check(is_terminal_safe(text), "message is not UTF-8 without control characters", line);
    got.emplace_back(text);
  }
};

}  // namespace dschat::fuzz
