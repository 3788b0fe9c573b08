#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dschat::bench {

/// What a benchmark line carries so that its relay can be recognised and timed whatever a server adds
/// around it. Written as `#<kind>:<sender>:<seq>:<sent_ns>#`, all numbers decimal.
struct Token {
  char kind = 'b';            ///< 'b' a load message, 'p' a probe of the start-up barrier
  std::uint32_t sender = 0;   ///< the sending client's index
  std::uint64_t seq = 0;      ///< per-sender sequence number, from 0
  std::uint64_t sent_ns = 0;  ///< (intended) send time in ns since the bench started

  bool operator==(const Token&) const = default;
};

/// The longest token text in bytes (kind, three 64-bit numbers, separators).
inline constexpr std::size_t max_token_size = 2 + 10 + 1 + 20 + 1 + 20 + 2;

/// Appends one message line to out: the token, filler up to payload bytes (none when the token alone is
/// longer), then LF. The filler never contains '#', so it cannot fake a token.
void append_message(std::string& out, const Token& token, std::size_t payload);

/// Finds the next well-formed token in text starting at pos; on success fills token, moves pos past it
/// and returns true. Malformed candidates are skipped, so tokens are found anywhere, several per line.
bool find_token(std::string_view text, std::size_t& pos, Token& token) noexcept;

}  // namespace dschat::bench
