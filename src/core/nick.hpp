#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dschat {

/// Longest nickname, in code points.
inline constexpr std::size_t max_nick_chars = 32;

/// True when name is a valid nickname (DESIGN §2): valid UTF-8, 1–32 code points, each an ASCII letter or
/// digit, `_` `-` `.`, or a non-ASCII code point outside the punctuation, space and special blocks.
bool is_valid_nick(std::string_view name) noexcept;

/// The key two names collide on when they are equal ignoring case: simple case folding of ASCII, Latin-1,
/// Latin Extended-A, Greek and Cyrillic. name must be valid UTF-8 (as every valid nickname is).
std::string fold_nick(std::string_view name);

/// True when a folded name looks like an assigned one, "guest-" followed by ASCII digits.
bool is_guest_name(std::string_view folded) noexcept;

/// The name assigned to the n-th guest, "guest-N".
std::string guest_name(unsigned long long n);

}  // namespace dschat
