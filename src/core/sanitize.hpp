#pragma once

#include <string>
#include <string_view>

namespace dschat {

/// Appends text to out made safe for a terminal (DESIGN §2): invalid UTF-8 becomes U+FFFD, one per
/// maximal invalid subpart (as Python's bytes.decode("utf-8", "replace")); C0 controls other than TAB
/// and DEL are shown in caret notation ("^[" for ESC, "^M" for CR, "^?" for DEL); C1 controls
/// (U+0080..U+009F) are shown as "<U+0085>"; everything else, multibyte text included, is unchanged.
void sanitize_append(std::string& out, std::string_view text);

/// sanitize_append into a new string.
std::string sanitize(std::string_view text);

/// True when sanitize(text) == text, i.e. text is valid UTF-8 with no control characters but TAB.
bool is_clean(std::string_view text) noexcept;

}  // namespace dschat
