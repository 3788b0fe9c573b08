#include "core/nick.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace dschat;

TEST_CASE("is_valid_nick") {
  SUBCASE("ASCII letters, digits and _ - .") {
    CHECK(is_valid_nick("a"));
    CHECK(is_valid_nick("Alice_B-2.0"));
    CHECK(is_valid_nick("..."));
    CHECK_FALSE(is_valid_nick(""));
    for (const char* bad :
         {"a b", "a\tb", "a!", "a,b", "a@b", "a#b", "a/b", "a:b", "a'b", "a\"b", "a~b", "a+b"}) {
      CAPTURE(bad);
      CHECK_FALSE(is_valid_nick(bad));
    }
  }

  SUBCASE("length counts code points") {
    CHECK(is_valid_nick(std::string(32, 'x')));
    CHECK_FALSE(is_valid_nick(std::string(33, 'x')));
    std::string han;
    for (int i = 0; i < 32; ++i)
      han += "字";
    CHECK(is_valid_nick(han));  // 96 bytes
    CHECK_FALSE(is_valid_nick(han + "字"));
    std::string emoji;
    for (int i = 0; i < 32; ++i)
      emoji += "\xf0\x9f\x98\x80";
    CHECK(is_valid_nick(emoji));  // 128 bytes, four per code point
  }

  SUBCASE("letters of other scripts") {
    CHECK(is_valid_nick("Ünïcødé"));
    CHECK(is_valid_nick("Łukasz"));
    CHECK(is_valid_nick("Ωμέγα"));
    CHECK(is_valid_nick("Саша"));
    CHECK(is_valid_nick("李小龍"));
    CHECK(is_valid_nick("مرحبا"));
    CHECK(is_valid_nick("ßÿÀ"));
  }

  SUBCASE("non-ASCII punctuation, spaces and specials") {
    for (const char* bad : {"\xc2\xa0", "\xc2\xab", "\xc2\xbf", "\xc3\x97", "\xc3\xb7", "\xe2\x80\x8b",
                            "\xe2\x80\x94", "\xe2\x81\xaf", "\xe3\x80\x80", "\xe3\x80\x82", "\xef\xb8\x8f",
                            "\xef\xbb\xbf", "\xef\xbf\xbd", "\xc2\x85"}) {
      CAPTURE(bad);
      CHECK_FALSE(is_valid_nick(std::string("a") + bad));
    }
    CHECK(is_valid_nick("a\xc3\x80"));      // U+00C0, right after the Latin-1 symbols
    CHECK(is_valid_nick("a\xe2\x81\xb0"));  // U+2070, right after General Punctuation
  }

  SUBCASE("invalid UTF-8 and control characters") {
    for (const char* bad : {"\x1b", "a\x7f", "\xff", "\x80", "\xc3", "\xc0\x80", "\xe0\x80\xaf",
                            "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe6\xbc"}) {
      CAPTURE(bad);
      CHECK_FALSE(is_valid_nick(bad));
    }
  }
}

TEST_CASE("fold_nick") {
  CHECK(fold_nick("AliCE_9") == "alice_9");
  CHECK(fold_nick("ÀÉÎÕÜÞ") == "àéîõüþ");
  CHECK(fold_nick("ß") == "ß");
  CHECK(fold_nick("Ÿ") == fold_nick("ÿ"));
  CHECK(fold_nick("ŁĄĘŻŹŃ") == "łąężźń");
  CHECK(fold_nick("ĹĽŇ") == "ĺľň");
  CHECK(fold_nick("ſ") == "s");
  CHECK(fold_nick("ΣΟΦΊΑ") == "σοφία");
  CHECK(fold_nick("ς") == fold_nick("Σ"));
  CHECK(fold_nick("ΆΈΉΊΌΎΏ") == "άέήίόύώ");
  CHECK(fold_nick("САША") == "саша");
  CHECK(fold_nick("ЁЖИК") == "ёжик");
  CHECK(fold_nick("ЄЇЎ") == "єїў");
  CHECK(fold_nick("ҐӁ") == "ґӂ");
  CHECK(fold_nick("李小龍") == "李小龍");
  CHECK(fold_nick("ı") == "ı");  // dotless i has no simple folding
}

TEST_CASE("is_guest_name") {
  CHECK(is_guest_name("guest-1"));
  CHECK(is_guest_name("guest-0042"));
  CHECK_FALSE(is_guest_name("guest-"));
  CHECK_FALSE(is_guest_name("guest-1a"));
  CHECK_FALSE(is_guest_name("guest1"));
  CHECK_FALSE(is_guest_name("xguest-1"));
  CHECK(is_guest_name(fold_nick("GUEST-3")));
}

TEST_CASE("guest_name") {
  CHECK(guest_name(1) == "guest-1");
  CHECK(guest_name(18446744073709551615ull) == "guest-18446744073709551615");
}
