#include "core/sanitize.hpp"

#include <cstddef>

namespace dschat {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr char32_t invalid = 0xFFFFFFFF;

struct Decoded {
  char32_t code_point;  // `invalid` for a maximal invalid subpart
  std::size_t length;   // bytes taken, at least 1
};

unsigned char byte_at(std::string_view text, std::size_t i) noexcept {
  return static_cast<unsigned char>(text[i]);
}

// Decodes the non-ASCII sequence at text[i]. The second byte's range depends on the lead byte (Unicode
// Table 3-7); that is what rules out overlongs, surrogates and code points past U+10FFFF. Stopping at
// the first byte outside the allowed range yields the "maximal subpart" Python replaces with one U+FFFD.
Decoded decode(std::string_view text, std::size_t i) noexcept {
  const unsigned char lead = byte_at(text, i);
  std::size_t needed = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  char32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    needed = 1;
    cp = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    needed = 2;
    cp = lead & 0x0Fu;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    needed = 3;
    cp = lead & 0x07u;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {invalid, 1};
  }
  std::size_t j = i + 1;
  for (std::size_t k = 0; k < needed; ++k, ++j) {
    if (j == text.size()) return {invalid, j - i};
    const unsigned char c = byte_at(text, j);
    if (c < low || c > high) return {invalid, j - i};
    cp = (cp << 6) | (c & 0x3Fu);
    low = 0x80;
    high = 0xBF;
  }
  return {cp, j - i};
}

bool is_c1(char32_t cp) noexcept {
  return cp >= 0x80 && cp <= 0x9F;
}

// Format characters that change how the rest of a line is laid out or hide where it breaks: the explicit
// bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069: the "Trojan Source"
// trick shows part of a line reversed), the line and paragraph separators, and the invisible zero width
// space, word joiner and BOM. Ordinary right-to-left text needs none of them, and the joiners that
// emoji and Indic scripts need (U+200C, U+200D) are not among them.
bool is_layout_control(char32_t cp) noexcept {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x200B || cp == 0x2060 || cp == 0xFEFF;
}

bool is_shown_as_code(char32_t cp) noexcept {
  return is_c1(cp) || is_layout_control(cp);
}

// Index of the first byte at or after i that sanitize rewrites, or text.size(). Everything before it is
// copied as one run, multibyte text included.
std::size_t clean_until(std::string_view text, std::size_t i) noexcept {
  while (i < text.size()) {
    const unsigned char c = byte_at(text, i);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7F) return i;
      ++i;
      continue;
    }
    const Decoded d = decode(text, i);
    if (d.code_point == invalid || is_shown_as_code(d.code_point)) return i;
    i += d.length;
  }
  return i;
}

// Appends the visible form of the sequence at text[i], which clean_until stopped at; returns the index
// after it.
std::size_t rewrite(std::string& out, std::string_view text, std::size_t i) {
  static constexpr char hex[] = "0123456789ABCDEF";
  const unsigned char c = byte_at(text, i);
  if (c == 0x7F) {
    out += "^?";
    return i + 1;
  }
  if (c < 0x80) {
    out += '^';
    out += static_cast<char>(c + 0x40);
    return i + 1;
  }
  const Decoded d = decode(text, i);
  if (d.code_point == invalid) {
    out += replacement;
  } else {
    const char32_t cp = d.code_point;  // at most U+FEFF: four hex digits
    const char code[] = {
        '<', 'U', '+', hex[(cp >> 12) & 0xF], hex[(cp >> 8) & 0xF], hex[(cp >> 4) & 0xF], hex[cp & 0xF], '>'};
    out.append(code, sizeof code);
  }
  return i + d.length;
}

}  // namespace

void sanitize_append(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t stop = clean_until(text, i);
    out.append(text.substr(i, stop - i));
    if (stop == text.size()) break;
    i = rewrite(out, text, stop);
  }
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  sanitize_append(out, text);
  return out;
}

bool is_clean(std::string_view text) noexcept {
  return clean_until(text, 0) == text.size();
}

}  // namespace dschat
