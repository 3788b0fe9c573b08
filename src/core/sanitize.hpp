#pragma once

#include <string>
#include <string_view>

namespace dschat {

/// Appends text to out made safe for a terminal (docs/protocol.md): invalid UTF-8 becomes U+FFFD, one per
/// maximal invalid subpart (as Python's bytes.decode("utf-8", "replace")); C0 controls other than TAB
/// and DEL are shown in caret notation ("^[" for ESC, "^M" for CR, "^?" for DEL); C1 controls
/// (U+0080..U+009F) and the format characters that can make text lie about its layout (bidi embeddings,
/// overrides and isolates U+202A..U+202E and U+2066..U+2069, separators U+2028 and U+2029, the invisible
/// U+200B, U+2060 and U+FEFF) are shown as their code, "<U+0085>", "<U+202E>"; everything else,
/// right-to-left and multibyte text included, is unchanged.
void sanitize_append(std::string& out, std::string_view text);

/// sanitize_append into a new string.
std::string sanitize(std::string_view text);

/// True when sanitize(text) == text, i.e. valid UTF-8 with no control characters but TAB and none of the
/// format characters sanitize shows as codes.
bool is_clean(std::string_view text) noexcept;

}  // namespace dschat
