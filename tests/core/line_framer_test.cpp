#include "core/line_framer.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using dschat::FrameKind;
using dschat::LineFramer;

namespace {

// An event as text: "L<line>" for a line, "T" for too_long; unambiguous and readable in failures.
using Events = std::vector<std::string>;

struct Recorder {
  Events events;
  std::size_t stop_after = SIZE_MAX;  // on_frame returns false on this many-th event

  bool operator()(FrameKind kind, std::string_view line) {
    events.push_back(kind == FrameKind::line ? "L" + std::string(line) : "T");
    if (kind == FrameKind::too_long) CHECK(line.empty());
    return events.size() < stop_after;
  }
};

Events frame(std::size_t max_line, const std::vector<std::string_view>& chunks) {
  LineFramer framer(max_line);
  Recorder rec;
  for (auto chunk : chunks) {
    CHECK(framer.feed(chunk, rec));
    CHECK(framer.buffered() <= max_line + 1);
  }
  framer.finish(rec);
  CHECK(framer.buffered() == 0);
  return rec.events;
}

Events frame_whole(std::size_t max_line, std::string_view stream) {
  return frame(max_line, {stream});
}

// The reference model: split on LF, drop one CR before it, judge each line by its length. Without EOF
// the unfinished tail is too_long once it cannot become a line of max_line bytes any more.
Events reference(std::string_view stream, std::size_t max_line, bool at_eof) {
  Events events;
  auto judge = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    events.push_back(line.size() > max_line ? "T" : "L" + std::string(line));
  };
  std::size_t start = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    if (stream[i] != '\n') continue;
    judge(stream.substr(start, i - start));
    start = i + 1;
  }
  const std::string_view tail = stream.substr(start);
  if (at_eof) {
    if (!tail.empty()) judge(tail);
  } else if (tail.size() > max_line + 1 || (tail.size() == max_line + 1 && tail.back() != '\r')) {
    events.push_back("T");
  }
  return events;
}

struct Fixture {
  std::size_t max_line;
  std::string_view stream;
};

constexpr Fixture fixtures[] = {
    {16, "hello\nworld\n"},
    {16, "hello\r\nworld\r\n"},
    {16, "lf\ncrlf\r\nlf\n"},
    {16, "\n\n\r\n\n"},
    {16, "a\rb\nc\r\r\n"},
    {16, "last line no lf"},
    {16, "last line cr\r"},
    {4, "abcd\nabcde\nok\n"},
    {4, "abcd\r\nabcd\r\r\nok"},
    {4, "abcdefghij\r\nabcd\n"},
    {4, "xxxxxxxxxxxxxxxxxxxxxxxx\nyy\nzzzzzzzzzzzz"},
    {1, "\r\r\r\n\r\n\r"},
    {3, "ab\r\rcd\n\r\r\n"},
};

}  // namespace

TEST_CASE("LineFramer::feed splits on LF and drops the CR of a CRLF") {
  CHECK(frame_whole(16, "one\ntwo\n") == Events{"Lone", "Ltwo"});
  CHECK(frame_whole(16, "one\r\ntwo\r\n") == Events{"Lone", "Ltwo"});
  CHECK(frame_whole(16, "lf\ncrlf\r\nlf\n") == Events{"Llf", "Lcrlf", "Llf"});
}

TEST_CASE("LineFramer::feed reports empty lines") {
  CHECK(frame_whole(16, "\n\r\n\nx\n") == Events{"L", "L", "L", "Lx"});
}

TEST_CASE("LineFramer::feed keeps a lone CR inside a line") {
  CHECK(frame_whole(16, "a\rb\n\rc\n") == Events{"La\rb", "L\rc"});
  CHECK(frame_whole(16, "a\r\r\n") == Events{"La\r"});
}

TEST_CASE("LineFramer::feed hands out complete lines as views into the chunk") {
  const std::string chunk = "abc\ndef\nrest";
  LineFramer framer(16);
  std::vector<const char*> starts;
  CHECK(framer.feed(chunk, [&](FrameKind, std::string_view line) {
    starts.push_back(line.data());
    return true;
  }));
  CHECK(starts == std::vector<const char*>{chunk.data(), chunk.data() + 4});
  CHECK(framer.buffered() == 4);
}

TEST_CASE("LineFramer::finish reports an unterminated last line") {
  CHECK(frame_whole(16, "a\nlast") == Events{"La", "Llast"});
  CHECK(frame_whole(16, "a\nlast\r") == Events{"La", "Llast"});
  CHECK(frame_whole(16, "a\n") == Events{"La"});
  CHECK(frame_whole(16, "") == Events{});
}

TEST_CASE("LineFramer::finish resets the framer") {
  LineFramer framer(4);
  Recorder rec;
  CHECK(framer.feed("abcdefg", rec));
  framer.finish(rec);
  CHECK(framer.feed("ab\n", rec));
  framer.finish(rec);
  CHECK(rec.events == Events{"T", "Lab"});
}

TEST_CASE("LineFramer::feed accepts exactly max_line bytes and rejects max_line + 1") {
  CHECK(frame_whole(4, "abcd\n") == Events{"Labcd"});
  CHECK(frame_whole(4, "abcde\n") == Events{"T"});
  CHECK(frame_whole(4, "abcd\r\n") == Events{"Labcd"});
  CHECK(frame_whole(4, "abcd\r") == Events{"Labcd"});
  CHECK(frame_whole(4, "abcd") == Events{"Labcd"});
  CHECK(frame_whole(4, "abcde") == Events{"T"});
  CHECK(frame(4, {"ab", "cd", "\r", "\n"}) == Events{"Labcd"});
  CHECK(frame(4, {"abcd", "\r", "x\n"}) == Events{"T"});
}

TEST_CASE("LineFramer::feed reports too_long once, before the LF arrives") {
  LineFramer framer(4);
  Recorder rec;
  CHECK(framer.feed("abc", rec));
  CHECK(rec.events.empty());
  CHECK(framer.feed("de", rec));
  CHECK(rec.events == Events{"T"});
  CHECK(framer.buffered() == 0);
  for (int i = 0; i < 1000; ++i)
    CHECK(framer.feed("more bytes without a line feed", rec));
  CHECK(framer.feed("still\r", rec));
  CHECK(framer.feed("\nnext\n", rec));
  CHECK(rec.events == Events{"T", "Lnext"});
}

TEST_CASE("LineFramer::feed keeps memory bounded for a 10 MB line") {
  constexpr std::size_t max_line = 4096;
  const std::string chunk(64 * 1024, 'x');
  LineFramer framer(max_line);
  Recorder rec;
  for (std::size_t fed = 0; fed < 10'000'000; fed += chunk.size()) {
    CHECK(framer.feed(chunk, rec));
    REQUIRE(framer.buffered() <= max_line + 1);
  }
  CHECK(framer.feed("tail\nok\n", rec));
  CHECK(rec.events == Events{"T", "Lok"});
}

TEST_CASE("LineFramer::feed stops when on_frame returns false") {
  LineFramer framer(16);
  Recorder rec;
  rec.stop_after = 2;
  CHECK_FALSE(framer.feed("a\nb\nc\nd", rec));
  CHECK(rec.events == Events{"La", "Lb"});
  CHECK(framer.buffered() == 0);

  LineFramer small(2);
  Recorder too_long;
  too_long.stop_after = 1;
  CHECK_FALSE(small.feed("abc", too_long));
  CHECK(too_long.events == Events{"T"});
}

TEST_CASE("LineFramer::feed gives the same events at every split point") {
  for (const Fixture& fixture : fixtures) {
    // Named copies rather than structured bindings: older Clang cannot capture those in CAPTURE.
    const std::size_t max_line = fixture.max_line;
    const std::string_view stream = fixture.stream;
    CAPTURE(max_line);
    CAPTURE(stream);
    const Events whole = frame_whole(max_line, stream);
    CHECK(whole == reference(stream, max_line, true));
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      CAPTURE(cut);
      CHECK(frame(max_line, {stream.substr(0, cut), stream.substr(cut)}) == whole);
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < stream.size(); ++i)
      bytes.push_back(stream.substr(i, 1));
    CHECK(frame(max_line, bytes) == whole);
  }
}

TEST_CASE("LineFramer::feed matches the reference model on random chunkings") {
  std::mt19937 rng(20240611);
  constexpr char alphabet[] = {'\n', '\r', 'a', 'b'};
  for (int iteration = 0; iteration < 5000; ++iteration) {
    const std::size_t max_line = std::uniform_int_distribution<std::size_t>(1, 8)(rng);
    std::string stream(std::uniform_int_distribution<std::size_t>(0, 48)(rng), ' ');
    for (char& c : stream)
      c = alphabet[std::uniform_int_distribution<std::size_t>(0, 3)(rng)];
    CAPTURE(max_line);
    CAPTURE(stream);

    LineFramer framer(max_line);
    Recorder rec;
    std::size_t fed = 0;
    while (fed < stream.size()) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 12)(rng);
      const std::string_view chunk = std::string_view(stream).substr(fed, n);
      REQUIRE(framer.feed(chunk, rec));
      fed += chunk.size();
      // Events are due as soon as they can be known, not later.
      REQUIRE(rec.events == reference(stream.substr(0, fed), max_line, false));
      REQUIRE(framer.buffered() <= max_line + 1);
    }
    framer.finish(rec);
    REQUIRE(rec.events == reference(stream, max_line, true));
  }
}
