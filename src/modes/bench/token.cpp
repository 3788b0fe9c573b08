#include "modes/bench/token.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <iterator>

namespace dschat::bench {

namespace {

bool is_kind(char c) noexcept {
  return c == 'b' || c == 'p';
}

/// Parses decimal digits at text[pos…] up to the separator sep; moves pos past sep.
template <class Number>
bool parse_field(std::string_view text, std::size_t& pos, char sep, Number& value) noexcept {
  const char* first = text.data() + pos;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, value);
  if (error != std::errc{} || end == first || end == last || *end != sep) return false;
  pos = static_cast<std::size_t>(end - text.data()) + 1;
  return true;
}

}  // namespace

void append_message(std::string& out, const Token& token, std::size_t payload) {
  const std::size_t before = out.size();
  fmt::format_to(std::back_inserter(out), "#{}:{}:{}:{}#", token.kind, token.sender, token.seq,
                 token.sent_ns);
  const std::size_t size = out.size() - before;
  // Plain letters: no server sanitizes, escapes or interprets them (a leading '/' would be a command).
  if (payload > size) out.append(payload - size, 'x');
  out.push_back('\n');
}

bool find_token(std::string_view text, std::size_t& pos, Token& token) noexcept {
  while (pos < text.size()) {
    const void* hash = std::memchr(text.data() + pos, '#', text.size() - pos);
    if (hash == nullptr) break;
    const auto start = static_cast<std::size_t>(static_cast<const char*>(hash) - text.data());
    pos = start + 1;
    if (text.size() - start < 4 || !is_kind(text[start + 1]) || text[start + 2] != ':') continue;
    std::size_t at = start + 3;
    Token found;
    found.kind = text[start + 1];
    if (!parse_field(text, at, ':', found.sender) || !parse_field(text, at, ':', found.seq) ||
        !parse_field(text, at, '#', found.sent_ns)) {
      continue;
    }
    token = found;
    pos = at;
    return true;
  }
  pos = text.size();
  return false;
}

}  // namespace dschat::bench
