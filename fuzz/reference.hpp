#pragma once

// Reference models the fuzz targets compare the core against. The UTF-8 decoder is written from the
// definition of well-formed UTF-8 (each length has its code point range, surrogates excluded) instead of
// from Unicode Table 3-7 as src/core/sanitize.cpp is, so the two are unlikely to share a mistake.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace dschat::fuzz {

/// One decoding step: a code point, or one maximal ill-formed subpart (what becomes one U+FFFD).
struct Utf8Step {
  char32_t code_point;  ///< meaningful only when well_formed
  std::size_t length;   ///< bytes taken, at least 1
  bool well_formed;
};

/// Decodes the sequence starting at text[i], i < text.size().
inline Utf8Step utf8_step(std::string_view text, std::size_t i) noexcept {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return {lead, 1, true};
  const std::size_t n = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0) return {0, 1, false};
  static constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};  // below: overlong
  // A prefix of k bytes can still become a scalar value of n bytes when the code points of all its
  // completions, an interval, meet [smallest[n], U+10FFFF] outside the surrogates.
  const auto can_complete = [&](char32_t bits, std::size_t k) {
    const std::size_t missing = 6 * (n - k);
    const auto first = static_cast<char32_t>(bits << missing);
    const auto last = static_cast<char32_t>(first | ((1u << missing) - 1));
    const char32_t lo = std::max(first, smallest[n]);
    const char32_t hi = std::min(last, char32_t{0x10FFFF});
    return lo <= hi && !(lo >= 0xD800 && hi <= 0xDFFF);
  };
  char32_t bits = lead & (0x7Fu >> n);
  if (!can_complete(bits, 1)) return {0, 1, false};
  for (std::size_t k = 1; k < n; ++k) {
    if (i + k == text.size()) return {0, k, false};
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80 || !can_complete((bits << 6) | (c & 0x3Fu), k + 1)) return {0, k, false};
    bits = (bits << 6) | (c & 0x3Fu);
  }
  return {bits, n, true};
}

/// True for the control characters docs/protocol.md never lets through: C0 but TAB, DEL, C1.
inline bool is_control(char32_t cp) noexcept {
  return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F);
}

/// True for the format characters that reorder or hide text (docs/protocol.md): bidi embeddings, overrides
/// and isolates, line and paragraph separators, zero width space, word joiner, BOM.
inline bool is_layout_format(char32_t cp) noexcept {
  switch (cp) {
    case 0x200B:
    case 0x2028:
    case 0x2029:
    case 0x202A:
    case 0x202B:
    case 0x202C:
    case 0x202D:
    case 0x202E:
    case 0x2060:
    case 0x2066:
    case 0x2067:
    case 0x2068:
    case 0x2069:
    case 0xFEFF:
      return true;
    default:
      return false;
  }
}

/// True when text is well-formed UTF-8 without control characters (TAB allowed) or layout formats.
inline bool is_terminal_safe(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const Utf8Step step = utf8_step(text, i);
    if (!step.well_formed || is_control(step.code_point) || is_layout_format(step.code_point)) return false;
    i += step.length;
  }
  return true;
}

/// What sanitize() must return (its header's contract), built from utf8_step.
inline std::string reference_sanitize(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const Utf8Step step = utf8_step(text, i);
    const char32_t cp = step.code_point;
    if (!step.well_formed) {
      out.append("\xEF\xBF\xBD");
    } else if (cp == 0x7F) {
      out.append("^?");
    } else if ((cp >= 0x80 && cp <= 0x9F) || is_layout_format(cp)) {
      out.append("<U+").append(
          {hex[cp >> 12], hex[(cp >> 8) & 0xF], hex[(cp >> 4) & 0xF], hex[cp & 0xF], '>'});
    } else if (is_control(cp)) {
      out.append({'^', static_cast<char>(cp + 0x40)});
    } else {
      out.append(text.substr(i, step.length));
    }
    i += step.length;
  }
  return out;
}

}  // namespace dschat::fuzz
