#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "modes/bench/token.hpp"

namespace dschat::test {

/// Every token find_token() finds in text, in order: the receiving side of every framing. Checks that the
/// search ends at the end of text.
inline std::vector<bench::Token> all_tokens(std::string_view text) {
  std::vector<bench::Token> found;
  std::size_t pos = 0;
  bench::Token token;
  while (bench::find_token(text, pos, token))
    found.push_back(token);
  CHECK(pos == text.size());
  return found;
}

}  // namespace dschat::test
