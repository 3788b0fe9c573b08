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

TEST_CASE("fold_nick: names equal ignoring case fold alike") {
  CHECK(fold_nick("AliCE_9") == fold_nick("alice_9"));
  CHECK(fold_nick("ÀÉÎÕÜÞ") == fold_nick("àéîõüþ"));
  CHECK(fold_nick("Ÿ") == fold_nick("ÿ"));
  CHECK(fold_nick("ŁĄĘŻŹŃ") == fold_nick("łąężźń"));
  CHECK(fold_nick("ĹĽŇ") == fold_nick("ĺľň"));
  CHECK(fold_nick("ΣΟΦΊΑ") == fold_nick("σοφία"));
  CHECK(fold_nick("ς") == fold_nick("Σ"));
  CHECK(fold_nick("ΆΈΉΊΌΎΏ") == fold_nick("άέήίόύώ"));
  CHECK(fold_nick("САША") == fold_nick("саша"));
  CHECK(fold_nick("ЁЖИК") == fold_nick("ёжик"));
  CHECK(fold_nick("ЄЇЎ") == fold_nick("єїў"));
  CHECK(fold_nick("ҐӁ") == fold_nick("ґӂ"));
  CHECK(fold_nick("李小龍") == "李小龍");
  CHECK(fold_nick("alice") != fold_nick("alicia"));
  CHECK(fold_nick("李小龍") != fold_nick("李小龙"));
}

TEST_CASE("is_guest_name") {
  CHECK(is_guest_name("guest-1"));
  CHECK(is_guest_name("guest-0042"));
  CHECK_FALSE(is_guest_name("guest-"));
  CHECK_FALSE(is_guest_name("guest-1a"));
  CHECK_FALSE(is_guest_name("guest1"));
  CHECK_FALSE(is_guest_name("xguest-1"));
  CHECK(is_guest_name(fold_nick("GUEST-3")));
  CHECK(is_guest_name(fold_nick("guest-1")));
  CHECK(is_guest_name(fold_nick("guest-1234567890")));
  CHECK_FALSE(is_guest_name(fold_nick("guest-")));
  CHECK_FALSE(is_guest_name(fold_nick("guest-x")));
  CHECK_FALSE(is_guest_name(fold_nick("guest1")));
}

TEST_CASE("guest_name") {
  CHECK(guest_name(1) == "guest-1");
  CHECK(guest_name(18446744073709551615ull) == "guest-18446744073709551615");
}

TEST_CASE("is_valid_nick refuses invisible and ignorable characters") {
  // Each appended to a valid name would make a second "alice" that looks the same.
  for (const char* bad : {"\xcd\x8f",          // U+034F combining grapheme joiner
                          "\xe3\x85\xa4",      // U+3164 Hangul filler
                          "\xd8\x9c",          // U+061C Arabic letter mark
                          "\xf3\xa0\x81\xa1",  // U+E0061 tag latin small letter a
                          "\xe1\xa0\x8e",      // U+180E Mongolian vowel separator
                          "\xe2\x80\x8d",      // U+200D zero width joiner
                          "\xe2\x80\xae",      // U+202E right-to-left override
                          "\xc2\xad",          // U+00AD soft hyphen
                          "\xef\xbe\xa0"}) {   // U+FFA0 halfwidth Hangul filler
    CAPTURE(bad);
    CHECK_FALSE(is_valid_nick(std::string("alice") + bad));
    CHECK_FALSE(is_valid_nick(bad));
  }
  CHECK_FALSE(is_valid_nick("\xe3\x85\xa4\xe3\x85\xa4"));
}

TEST_CASE("is_valid_nick refuses names made only of combining marks") {
  CHECK_FALSE(is_valid_nick("\xcc\x81"));          // U+0301
  CHECK_FALSE(is_valid_nick("\xcc\x81\xcc\x88"));  // U+0301 U+0308
  CHECK_FALSE(
      is_valid_nick("\xcc\x81"
                    "a"));              // a mark cannot start a name
  CHECK(is_valid_nick("e\xcc\x81ve"));  // decomposed é is a letter and its accent
}

TEST_CASE("is_valid_nick refuses scripts mixed to look like another name") {
  CHECK_FALSE(is_valid_nick("\xd0\xb0lice"));        // Cyrillic а, Latin lice
  CHECK_FALSE(is_valid_nick("gu\xd0\xb5st-1"));      // Cyrillic е in guest
  CHECK_FALSE(is_valid_nick("p\xce\xbfst"));         // Greek ο in post
  CHECK(is_valid_nick("\xd0\xb0\xd1\x81\xd0\xb5"));  // асе: all Cyrillic is one script
  CHECK(is_valid_nick("Саша_2.0-я"));
  CHECK_FALSE(is_valid_nick("Саша_2.0-x"));  // Latin x after Cyrillic
  CHECK(is_valid_nick("bob2000"));
}

TEST_CASE("fold_nick: names that look alike fold alike") {
  CHECK(fold_nick("z\xd0\xb5"
                  "d") == fold_nick("zed"));                       // Cyrillic е
  CHECK(fold_nick("\xd0\xb0\xd0\xb5") == fold_nick("ae"));         // all-Cyrillic ае
  CHECK(fold_nick("e\xcc\x81ve") == fold_nick("\xc3\xa9ve"));      // decomposed and precomposed é
  CHECK(fold_nick("guest-\xef\xbc\x91") == fold_nick("guest-1"));  // fullwidth digit one
  CHECK(fold_nick("\xef\xbd\x81lice") == fold_nick("alice"));      // fullwidth a
  CHECK(fold_nick("ALICE") == fold_nick("alice"));
  CHECK(fold_nick("rn") == fold_nick("m"));
  CHECK(fold_nick("alice") != fold_nick("alicf"));
  CHECK(is_guest_name(fold_nick("gu\xd0\xb5st-1")));
  CHECK(is_guest_name(fold_nick("guest-\xef\xbc\x91")));
  CHECK(is_guest_name(fold_nick("GUEST-3")));
}
