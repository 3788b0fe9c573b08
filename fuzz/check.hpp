#pragma once

// Failure reporting for the fuzz targets. They abort rather than assert so a check holds whatever NDEBUG
// says, and libFuzzer saves the input that broke it as a crash artifact.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace dschat::fuzz {

/// text with every byte outside printable ASCII (and the backslash) shown as \xHH.
inline std::string escaped(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
      out.push_back(c);
    } else {
      out.append("\\x").push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xF]);
    }
  }
  return out;
}

/// The texts as "[a][b]...", for failure messages.
inline std::string bracketed(const std::vector<std::string>& texts) {
  std::string out;
  for (const std::string& text : texts)
    out.append("[").append(text).append("]");
  return out;
}

/// Prints "fuzz check failed: WHAT" and the escaped detail, then aborts.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz check failed: %.*s\n  %s\n", static_cast<int>(what.size()), what.data(),
               escaped(detail).c_str());
  std::abort();
}

/// fail(what, detail) unless ok.
inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

}  // namespace dschat::fuzz
