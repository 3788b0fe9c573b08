#include "core/telnet_filter.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using dschat::TelnetFilter;
using namespace std::string_view_literals;

namespace {

struct Filtered {
  std::string data;
  std::string replies;
};

Filtered filter(const std::vector<std::string_view>& chunks) {
  TelnetFilter filter;
  Filtered out;
  for (const auto chunk : chunks)
    out.data.append(filter.feed(chunk, out.replies));
  return out;
}

/// Checks that stream gives data and replies however it is split: whole, at every byte, and in three
/// pieces at every pair of boundaries.
void check_every_split(std::string_view stream, std::string_view data, std::string_view replies) {
  const auto check = [&](const std::vector<std::string_view>& chunks) {
    const Filtered out = filter(chunks);
    CHECK(out.data == data);
    CHECK(out.replies == replies);
  };
  check({stream});
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(stream.substr(i, 1));
  check(bytes);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); ++j)
      check({stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)});
  }
}

constexpr std::string_view do_binary = "\xFF\xFD\x00"sv;
constexpr std::string_view will_timing_mark = "\xFF\xFB\x06";

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out.append(s);
  return out;
}

}  // namespace

TEST_CASE("TelnetFilter::feed passes a client that never sends IAC unchanged and answers nothing") {
  check_every_split("hello\r\nуя σ ✓\n\x83\x8f\x9c\n", "hello\r\nуя σ ✓\n\x83\x8f\x9c\n", "");
  TelnetFilter filter;
  std::string replies;
  const std::string_view chunk = "no copy\n";
  CHECK(filter.feed(chunk, replies).data() == chunk.data());
  CHECK_FALSE(filter.active());
}

TEST_CASE("TelnetFilter::feed restores the bytes inetutils telnet turned into IP, AO and BRK") {
  // Typed "уя σ ✓ first" and Enter, as inetutils telnet 2.4 sent it: each of 0x83, 0x8F, 0x9C replaced
  // by a command plus DO TIMING-MARK. The first restored byte asks for binary.
  const std::string_view typed(
      "\xd1\xff\xf4\xff\xfd\x06\xd1\xff\xf5\xff\xfd\x06 \xcf\xff\xf4\xff\xfd\x06 "
      "\xe2\xff\xf3\xff\xfd\x06\x93 first\r\n");
  check_every_split(typed, "уя σ ✓ first\r\n", std::string(do_binary) + repeat(will_timing_mark, 4));
}

TEST_CASE("TelnetFilter::feed restores SUSP and ABORT inside a sequence") {
  check_every_split("\xd1\xff\xed!\xe2\xff\xee\x93", "\xd1\x9a!\xe2\x9c\x93", do_binary);
}

TEST_CASE("TelnetFilter::feed drops a real interrupt and answers its timing mark") {
  check_every_split("abc\xff\xf4\xff\xfd\x06x\n", "abcx\n", will_timing_mark);
}

TEST_CASE("TelnetFilter::feed asks for binary once and takes the client's WILL BINARY as the answer") {
  check_every_split("\xd1\xff\xf4\xff\xfb\x00\xd1\xff\xf4\xd1\x83\n"sv, "\xd1\x83\xd1\x83\xd1\x83\n",
                    do_binary);
}

TEST_CASE("TelnetFilter::feed refuses other options once each and never answers WONT or DONT") {
  // WILL NAWS, DO ECHO, WILL BINARY unasked, then the same again, then WONT and DONT.
  check_every_split(
      "\xff\xfb\x1f\xff\xfd\x01\xff\xfb\x00\xff\xfb\x1f\xff\xfd\x01\xff\xfc\x03\xff\xfe\x03ok\n"sv, "ok\n",
      "\xff\xfe\x1f\xff\xfc\x01\xff\xfe\x00"sv);
}

TEST_CASE("TelnetFilter::feed skips subnegotiations, keeps IAC IAC as a data byte, drops NUL after CR") {
  check_every_split(
      "a\xff\xfa\x18\x00xterm\xff\xff\xff\xf0"
      "b\xff\xff"
      "c\r\0d\r\n\xff\xf1\xff\xf9"
      "e\n"sv,
      "ab\xff"
      "c\rd\r\ne\n",
      "");
}

TEST_CASE("TelnetFilter::feed keeps NUL after CR until the client speaks telnet") {
  check_every_split(
      "a\r\0b\xff\xf1"
      "c\r\0d\n"sv,
      "a\r\0bc\rd\n"sv, "");
}

TEST_CASE("TelnetFilter::active turns on with the first IAC") {
  TelnetFilter filter;
  std::string replies;
  filter.feed("abc", replies);
  CHECK_FALSE(filter.active());
  filter.feed("\xff\xf1", replies);
  CHECK(filter.active());
  CHECK(replies.empty());
}
