#include "core/sanitize.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using dschat::is_clean;
using dschat::sanitize;
using dschat::sanitize_append;

namespace {

// n times U+FFFD.
std::string fffd(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += "\xEF\xBF\xBD";
  return out;
}

struct Case {
  std::string input;
  std::string expected;
};

// Clean text: sanitize leaves it alone.
const std::vector<std::string> clean_fixtures = {
    "",
    "hello, world ~!@#$%^&*()_+{}|:\"<>?",
    "tab\tinside",
    "\xE4\xBD\xA0\xE5\xA5\xBD",              // 你好
    "\xF0\x9F\x98\x80 \xF0\x9F\x91\x8D",     // two 4-byte emoji
    "e\xCC\x81 a\xCC\x8A",                   // e + U+0301, a + U+030A (combining marks)
    "\xC2\xA0\xC3\xA9\xE2\x82\xAC",          // U+00A0 (first after C1), é, €
    "\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF",  // U+D7FF, U+E000, U+FFFF (around the surrogates)
    "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF",      // U+10000, U+10FFFF (the last code point)
    "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD8\xB3\xD9\x84\xD8\xA7\xD9\x85",  // שלום سلام: right-to-left text
                                                                          // stays
    "\xE2\x80\x8E\xE2\x80\x8F",                      // U+200E, U+200F: directional marks override nothing
    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x92\xBB",  // man + U+200D (ZWJ) + laptop: one emoji
    "\xE0\xA4\x95\xE0\xA5\x8D\xE2\x80\x8C",          // क्‌: U+200C (ZWNJ) as Indic scripts use it
};

// Expected U+FFFD counts were checked with Python: bytes.decode("utf-8", "replace").
const std::vector<Case> fixtures = {
    {"ESC\x1B[31mred", "ESC^[[31mred"},
    {"cr\rlf\n", "cr^Mlf^J"},
    {std::string("bel\a nul", 8) + std::string(1, '\0') + "!", "bel^G nul^@!"},
    {"del\x7F", "del^?"},
    {"\x1F", "^_"},
    {"c1 \xC2\x85 and \xC2\x9B.", "c1 <U+0085> and <U+009B>."},
    {"\xC2\x80\xC2\x9F", "<U+0080><U+009F>"},
    // Trojan Source: an override or isolate makes part of a line show reversed; separators and zero width
    // characters hide where a line breaks or what a word is.
    {"admin\xE2\x80\xAE txt.exe", "admin<U+202E> txt.exe"},
    {"\xE2\x80\xAA\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD", "<U+202A><U+202B><U+202C><U+202D>"},
    {"\xE2\x81\xA6"
     "a\xE2\x81\xA7"
     "b\xE2\x81\xA8"
     "c\xE2\x81\xA9",
     "<U+2066>a<U+2067>b<U+2068>c<U+2069>"},
    {"one\xE2\x80\xA8two\xE2\x80\xA9three", "one<U+2028>two<U+2029>three"},
    {"zero\xE2\x80\x8Bwidth\xE2\x81\xA0joiner\xEF\xBB\xBF", "zero<U+200B>width<U+2060>joiner<U+FEFF>"},
    {"\xC0\x80", fffd(2)},          // overlong NUL
    {"\xC1\xBF", fffd(2)},          // overlong U+007F
    {"\xE0\x80\x80", fffd(3)},      // overlong 3-byte
    {"\xE0\x9F\xBF", fffd(3)},      // overlong U+07FF
    {"\xF0\x80\x80\x80", fffd(4)},  // overlong 4-byte
    {"\xED\xA0\x80", fffd(3)},      // U+D800
    {"\xED\xBF\xBF", fffd(3)},      // U+DFFF
    {"\xF4\x90\x80\x80", fffd(4)},  // U+110000
    {"\xF5", fffd(1)},
    {"\xFF", fffd(1)},
    {"\xF8\x88\x80\x80\x80", fffd(5)},  // old 5-byte form
    {"\xFE\xFE\xFF\xFF", fffd(4)},
    {"a\xE2\x82", "a" + fffd(1)},  // truncated at the end
    {"\xC2", fffd(1)},
    {"\xF0\x9F", fffd(1)},
    {"\xF0\x9F\x98", fffd(1)},
    {std::string("a\xE2\x82") + "b", "a" + fffd(1) + "b"},  // truncated in the middle
    {std::string("\xF0\x9F\x98") + "x", fffd(1) + "x"},
    {"\xE2(\xA1", fffd(1) + "(" + fffd(1)},
    {"\xF0(\x8C\xBC", fffd(1) + "(" + fffd(2)},
    {"\x80", fffd(1)},  // lone continuation bytes
    {"\x80\x80\xBF", fffd(3)},
    {"\xE2\x82\xAC\x80", "\xE2\x82\xAC" + fffd(1)},
    {"\xF0\x9F\x98\x80\xF0\x9F\x98", "\xF0\x9F\x98\x80" + fffd(1)},
    {"\xC2\x85\x1B\xFF", "<U+0085>^[" + fffd(1)},
};

}  // namespace

TEST_CASE("sanitize leaves clean text unchanged") {
  for (const auto& text : clean_fixtures) {
    CAPTURE(text);
    CHECK(sanitize(text) == text);
    CHECK(is_clean(text));
  }
}

TEST_CASE("sanitize shows controls and replaces invalid UTF-8") {
  for (const Case& fixture : fixtures) {
    CAPTURE(fixture.input);
    CHECK(sanitize(fixture.input) == fixture.expected);
  }
}

TEST_CASE("sanitize_append appends to what is there") {
  std::string out = "<alice> ";
  sanitize_append(out, "hi\x1B");
  CHECK(out == "<alice> hi^[");
}

TEST_CASE("is_clean agrees with sanitize on the fixtures") {
  for (const Case& fixture : fixtures) {
    CAPTURE(fixture.input);
    CHECK_FALSE(is_clean(fixture.input));
    CHECK(is_clean(fixture.expected));
  }
}

TEST_CASE("is_clean agrees with sanitize on random input") {
  std::mt19937 rng(7);
  // Mostly bytes that matter to UTF-8 so that valid sequences happen often, plus any byte at all.
  constexpr unsigned char interesting[] = {'a',  '\t', 0x1B, 0x7F, 0x80, 0x85, 0x9F, 0xA0, 0xBF,
                                           0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5};
  std::uniform_int_distribution<int> pick(0, 2 * static_cast<int>(sizeof interesting) - 1);
  std::uniform_int_distribution<int> any_byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 12);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text(length(rng), ' ');
    for (char& c : text) {
      const auto i = static_cast<std::size_t>(pick(rng));
      c = static_cast<char>(i < sizeof interesting ? interesting[i] : any_byte(rng));
    }
    CAPTURE(text);
    const std::string once = sanitize(text);
    REQUIRE(is_clean(text) == (once == text));
    REQUIRE(is_clean(once));
    REQUIRE(sanitize(once) == once);
  }
}
