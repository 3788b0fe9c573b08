#include "core/nick.hpp"

#include <algorithm>

#include "core/sanitize.hpp"

namespace dschat {
namespace {

// Only called on text is_clean() accepted, which rules out invalid UTF-8 (overlongs and surrogates
// included) with the same decoder the sanitizer uses; the lead byte alone then gives the length. The
// bounds check only keeps a misuse on other input from reading past the end.
char32_t next(std::string_view s, std::size_t& i) noexcept {
  const auto lead = static_cast<unsigned char>(s[i]);
  const std::size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t cp = len == 1 ? lead : lead & (0x7Fu >> len);
  for (std::size_t k = 1; k < len && i + k < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
  }
  i += len;
  return cp;
}

void encode(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool in(char32_t cp, char32_t first, char32_t last) noexcept {
  return cp >= first && cp <= last;
}

// Without a Unicode database, "letter or digit" outside ASCII is approximated by excluding the blocks
// that hold spaces, punctuation, invisible formatting and specials; every script's letters pass.
bool is_nick_char(char32_t cp) noexcept {
  if (cp < 0x80) {
    return in(cp, 'a', 'z') || in(cp, 'A', 'Z') || in(cp, '0', '9') || cp == '_' || cp == '-' || cp == '.';
  }
  return !(in(cp, 0x80, 0xBF) || cp == 0xD7 || cp == 0xF7 || in(cp, 0x2000, 0x206F) ||
           in(cp, 0x3000, 0x303F) || in(cp, 0xFE00, 0xFE0F) || cp == 0xFEFF || in(cp, 0xFFF0, 0xFFFF));
}

// Case pairs laid out as upper/lower neighbours; upper_is_even tells which of the two is the capital.
char32_t fold_pair(char32_t cp, bool upper_is_even) noexcept {
  return ((cp % 2 == 0) == upper_is_even) ? cp + 1 : cp;
}

// Simple case folding (Unicode CaseFolding.txt, status C and S) for the scripts people mostly type.
char32_t fold(char32_t cp) noexcept {
  if (in(cp, 'A', 'Z')) return cp + 0x20;
  if (cp < 0xC0) return cp;
  if (in(cp, 0xC0, 0xDE) && cp != 0xD7) return cp + 0x20;  // Latin-1: À..Þ
  if (in(cp, 0x100, 0x12F) || in(cp, 0x132, 0x137) || in(cp, 0x14A, 0x177)) return fold_pair(cp, true);
  if (in(cp, 0x139, 0x148) || in(cp, 0x179, 0x17E)) return fold_pair(cp, false);
  if (cp == 0x178) return 0xFF;  // Ÿ
  if (cp == 0x17F) return 's';   // long s
  if (cp == 0x386) return 0x3AC;
  if (in(cp, 0x388, 0x38A)) return cp + 0x25;
  if (cp == 0x38C) return 0x3CC;
  if (in(cp, 0x38E, 0x38F)) return cp + 0x3F;
  if (in(cp, 0x391, 0x3AB) && cp != 0x3A2) return cp + 0x20;  // Greek capitals Α..Ϋ
  if (cp == 0x3C2) return 0x3C3;                              // final sigma
  if (in(cp, 0x400, 0x40F)) return cp + 0x50;                 // Cyrillic Ѐ..Џ
  if (in(cp, 0x410, 0x42F)) return cp + 0x20;                 // Cyrillic А..Я
  if (in(cp, 0x460, 0x481) || in(cp, 0x48A, 0x4BF) || in(cp, 0x4D0, 0x52F)) return fold_pair(cp, true);
  if (cp == 0x4C0) return 0x4CF;
  if (in(cp, 0x4C1, 0x4CE)) return fold_pair(cp, false);
  return cp;
}

}  // namespace

bool is_valid_nick(std::string_view name) noexcept {
  // The byte bound first, so a 4 KiB line is refused without being decoded.
  if (name.empty() || name.size() > 4 * max_nick_chars || !is_clean(name)) return false;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < name.size();) {
    if (!is_nick_char(next(name, i)) || ++chars > max_nick_chars) return false;
  }
  return true;
}

std::string fold_nick(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size();) {
    encode(out, fold(next(name, i)));
  }
  return out;
}

bool is_guest_name(std::string_view folded) noexcept {
  constexpr std::string_view prefix = "guest-";
  if (folded.size() <= prefix.size() || folded.substr(0, prefix.size()) != prefix) return false;
  const std::string_view digits = folded.substr(prefix.size());
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string guest_name(unsigned long long n) {
  return "guest-" + std::to_string(n);
}

}  // namespace dschat
