#include "modes/bench/token.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "all_tokens.hpp"

using dschat::bench::append_message;
using dschat::bench::find_token;
using dschat::bench::max_token_size;
using dschat::bench::Token;
using dschat::test::all_tokens;

namespace {

std::string line_of(const Token& token, std::size_t payload) {
  std::string out;
  append_message(out, token, payload);
  return out;
}

}  // namespace

TEST_CASE("append_message pads to the payload and ends in LF") {
  const std::string line = line_of(Token{'b', 3, 17, 123456789}, 64);
  CHECK(line.size() == 65);
  CHECK(line.starts_with("#b:3:17:123456789#"));
  CHECK(line.back() == '\n');
  CHECK(line.find('#', 1) == 17);  // only the token's own two
  CHECK(line.find('#', 18) == std::string::npos);
}

TEST_CASE("append_message never truncates the token") {
  const Token big{'p', UINT32_MAX, UINT64_MAX, UINT64_MAX};
  const std::string line = line_of(big, 1);
  CHECK(line.size() == max_token_size + 1);
  CHECK(all_tokens(line) == std::vector<Token>{big});
}

TEST_CASE("find_token round-trips what append_message wrote") {
  for (const Token token : {Token{'b', 0, 0, 0}, Token{'b', 99, 1000000, 5'000'000'000ULL},
                            Token{'p', 7, 3, 42}, Token{'b', UINT32_MAX, UINT64_MAX, UINT64_MAX}}) {
    CAPTURE(token.sender);
    CHECK(all_tokens(line_of(token, 64)) == std::vector<Token>{token});
  }
}

TEST_CASE("find_token finds tokens behind the prefixes servers add") {
  const Token token{'b', 4, 9, 777};
  const std::string body = line_of(token, 48);
  for (const std::string prefix : {"<guest-3> ", "127.0.0.1:5555: ", "<user5> ", "* guest-1 ", ""}) {
    CAPTURE(prefix);
    CHECK(all_tokens(prefix + body) == std::vector<Token>{token});
  }
}

TEST_CASE("find_token finds several tokens in one chunk, in order") {
  const Token a{'b', 1, 1, 10};
  const Token b{'b', 2, 5, 20};
  const Token c{'p', 0, 0, 30};
  // ncat prefixes a whole read chunk: several lines behind one prefix.
  const std::string chunk = "<user1> " + line_of(a, 40) + line_of(b, 40) + "# noise #b:x# " + line_of(c, 0);
  CHECK(all_tokens(chunk) == std::vector<Token>{a, b, c});
}

TEST_CASE("find_token skips malformed and truncated tokens") {
  CHECK(all_tokens("").empty());
  CHECK(all_tokens("no token here").empty());
  CHECK(all_tokens("#b:1:2:3").empty());             // no closing #
  CHECK(all_tokens("#b:1:2#").empty());              // a field short
  CHECK(all_tokens("#q:1:2:3#").empty());            // unknown kind
  CHECK(all_tokens("#b:-1:2:3#").empty());           // negative
  CHECK(all_tokens("#b::2:3#").empty());             // empty field
  CHECK(all_tokens("#b:99999999999:2:3#").empty());  // sender past 32 bits
  CHECK(all_tokens("##b:1:2:3#").size() == 1);
  CHECK(all_tokens("#b:1:x##b:1:2:3#") == std::vector<Token>{Token{'b', 1, 2, 3}});
}

TEST_CASE("find_token resumes at pos") {
  const std::string text = line_of(Token{'b', 1, 1, 1}, 0) + line_of(Token{'b', 2, 2, 2}, 0);
  std::size_t pos = 0;
  Token token;
  REQUIRE(find_token(text, pos, token));
  CHECK(token.sender == 1);
  REQUIRE(find_token(text, pos, token));
  CHECK(token.sender == 2);
  CHECK_FALSE(find_token(text, pos, token));
}
