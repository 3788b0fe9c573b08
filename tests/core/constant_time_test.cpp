#include "core/constant_time.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using dschat::equal_constant_time;

TEST_CASE("equal_constant_time") {
  SUBCASE("equal texts") {
    CHECK(equal_constant_time("", ""));
    CHECK(equal_constant_time("secret", "secret"));
    CHECK(equal_constant_time(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  }

  SUBCASE("a difference anywhere") {
    const std::string secret = "correct horse battery staple";
    for (std::size_t at = 0; at < secret.size(); ++at) {
      std::string given = secret;
      given[at] ^= 0x01;
      CHECK_MESSAGE(!equal_constant_time(secret, given), at);
      given[at] = static_cast<char>(given[at] ^ 0x81);
      CHECK_MESSAGE(!equal_constant_time(secret, given), at);
    }
  }

  SUBCASE("different lengths") {
    CHECK_FALSE(equal_constant_time("secret", ""));
    CHECK_FALSE(equal_constant_time("", "secret"));
    CHECK_FALSE(equal_constant_time("secret", "secre"));
    CHECK_FALSE(equal_constant_time("secret", "secrets"));
    CHECK_FALSE(equal_constant_time("ab", "abab"));
    CHECK_FALSE(equal_constant_time("abab", "ab"));
    CHECK_FALSE(equal_constant_time(std::string_view("x\0", 2), "x"));
    // Lengths that differ by a multiple of 256 must not cancel out in the comparison.
    CHECK_FALSE(equal_constant_time(std::string(256, 'a'), std::string(512, 'a')));
    CHECK_FALSE(equal_constant_time("a", std::string(257, 'a')));
  }
}
