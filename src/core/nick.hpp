#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dschat {

/// Longest nickname, in code points after NFC normalization.
inline constexpr std::size_t max_nick_chars = 32;

/// What is wrong with a nickname, if anything.
enum class NickCheck {
  ok,
  invalid,        ///< bad UTF-8, too long, or a character a name may not hold
  mixed_scripts,  ///< letters of scripts mixed the way look-alikes are made (Latin with Cyrillic)
};

/// Checks a nickname (README, "Names"): valid UTF-8 of 1–32 code points after NFC, each an ASCII letter
/// or digit, `_` `-` `.`, or a non-ASCII letter, mark, number or symbol that is neither invisible nor
/// default-ignorable (no U+034F, Hangul filler, tag characters, bidi marks…); a mark cannot come first;
/// the scripts must pass ICU's moderately restrictive level (UTS #39): Latin may mix with Han or
/// Arabic, say, but never with Cyrillic or Greek.
NickCheck check_nick(std::string_view name);

/// True when check_nick(name) is NickCheck::ok.
bool is_valid_nick(std::string_view name);

/// The key two names collide on when they look alike: the UTS #39 skeleton of the name's NFKC case
/// folding, so `zеd` (Cyrillic е) and `zed`, `éve` decomposed and precomposed, `ALICE` and `alice`,
/// `guest-１` (fullwidth) and `guest-1` fold alike. name must be valid UTF-8.
std::string fold_nick(std::string_view name);

/// True when two names are the same text but for case and normalization (so no "looks like" is needed
/// to explain why they collide). Both must be valid UTF-8.
bool same_ignoring_case(std::string_view a, std::string_view b);

/// True when a folded name looks like an assigned one, "guest-" followed by digits (or what digits fold
/// to: the skeleton of 1 is l, of 0 is O).
bool is_guest_name(std::string_view folded);

/// True when a folded name looks like "server", which nobody may take: `* server …` and `<server> …`
/// would read as the server speaking.
bool is_server_name(std::string_view folded);

/// fold_nick(guest_name(n)), without the cost of folding: every join needs it.
std::string guest_key(unsigned long long n);

/// The name assigned to the n-th guest, "guest-N".
std::string guest_name(unsigned long long n);

}  // namespace dschat
