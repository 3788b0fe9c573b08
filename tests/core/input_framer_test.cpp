#include "core/input_framer.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using dschat::FrameKind;
using dschat::InputFramer;
using namespace std::string_view_literals;

namespace {

struct Framed {
  std::vector<std::string> lines;
  std::string replies;
  bool crlf = false;
};

/// Feeds the chunks; after a chunk ending in '|' (removed) the client pauses: end_message().
Framed frame(const std::vector<std::string_view>& chunks, std::size_t max_line = 64) {
  InputFramer framer(max_line);
  Framed out;
  const auto record = [&](FrameKind kind, std::string_view line) {
    out.lines.push_back(kind == FrameKind::line ? std::string(line) : "<too long>");
    return true;
  };
  for (std::string_view chunk : chunks) {
    const bool pause = chunk.ends_with('|');
    if (pause) chunk.remove_suffix(1);
    framer.feed(chunk, record);
    if (pause) framer.end_message(record);
  }
  framer.finish(record);
  out.replies = framer.replies();
  out.crlf = framer.crlf();
  return out;
}

void check_every_split(std::string_view stream, const std::vector<std::string>& lines,
                       std::string_view replies, bool crlf) {
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    const Framed out = frame({stream.substr(0, i), stream.substr(i)});
    CHECK(out.lines == lines);
    CHECK(out.replies == replies);
    CHECK(out.crlf == crlf);
  }
}

}  // namespace

TEST_CASE("InputFramer::feed frames telnet text into intact lines and collects the answers") {
  check_every_split(
      "\xd1\xff\xf4\xff\xfd\x06\xd1\xff\xf5\xff\xfd\x06 \xcf\xff\xf4\xff\xfd\x06 "
      "\xe2\xff\xf3\xff\xfd\x06\x93 first\r\n\xff\xfb\x00second\nend"sv,
      {"уя σ ✓ first", "second", "end"},
      // DO BINARY and four WILL TIMING-MARK; the client's WILL BINARY is the answer, not answered.
      "\xff\xfd\x00\xff\xfb\x06\xff\xfb\x06\xff\xfb\x06\xff\xfb\x06"sv, true);
}

TEST_CASE("InputFramer::crlf is set by the first CRLF line and stays") {
  check_every_split("lf\n", {"lf"}, "", false);
  check_every_split("a\r\nb\n", {"a", "b"}, "", true);
  check_every_split("a\nb\r\n", {"a", "b"}, "", true);
  check_every_split("cr at eof\r", {"cr at eof"}, "", false);
}

TEST_CASE("InputFramer::end_message makes the bytes before a pause a message") {
  for (std::size_t i = 0; i <= 5; ++i) {
    const std::string_view hello = "hello";
    const Framed out = frame({hello.substr(0, i), std::string(hello.substr(i)) + "|", "end|"});
    CHECK(out.lines == std::vector<std::string>{"hello", "end"});
  }
  CHECK(frame({"|", "a\nb|", "c\n"}).lines == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("InputFramer::buffered counts the unfinished line only") {
  InputFramer framer(64);
  const auto ignore = [](FrameKind, std::string_view) { return true; };
  framer.feed("ab\ncd\xff\xfd", ignore);
  CHECK(framer.buffered() == 2);
  framer.end_message(ignore);
  CHECK(framer.buffered() == 0);
}
