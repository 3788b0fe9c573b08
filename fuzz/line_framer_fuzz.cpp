// libFuzzer target for LineFramer (docs/protocol.md). However a byte stream is cut into chunks, the framer
// must report the events a whole-stream reference model gives, hold at most max_line + 1 bytes, hand out
// lines without LF, stop when asked and be reusable after finish().
//
// Input: [max_line] [stop] [n] [n chunk sizes] [stream...]. max_line is 1..64, or SIZE_MAX for 0xFF;
// stop 0xF0..0xFF makes on_frame return false on event 1..16; chunk sizes repeat (0 feeds an empty chunk,
// then one byte); n == 0 feeds the stream whole.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "core/line_framer.hpp"

namespace {

using dschat::FrameKind;
using dschat::LineFramer;
using dschat::fuzz::check;

// "L<line>" for a line, "T" for too_long.
using Events = std::vector<std::string>;

// Split on LF, drop one CR before it, judge each line by its length; at EOF the tail is a line too.
Events reference(std::string_view stream, std::size_t max_line) {
  Events events;
  auto judge = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    events.push_back(line.size() > max_line ? "T" : "L" + std::string(line));
  };
  std::size_t start = 0;
  for (std::size_t lf = stream.find('\n'); lf != std::string_view::npos; lf = stream.find('\n', start)) {
    judge(stream.substr(start, lf - start));
    start = lf + 1;
  }
  if (start < stream.size()) judge(stream.substr(start));
  return events;
}

void check_bounded(const LineFramer& framer) {
  // Written so that max_line == SIZE_MAX cannot overflow.
  check(framer.buffered() <= framer.max_line() || framer.buffered() - framer.max_line() <= 1,
        "buffered() > max_line + 1");
}

struct Recorder {
  const LineFramer& framer;
  std::size_t stop_at;  // on_frame returns false on this event (1-based); 0: never
  Events events;

  bool operator()(FrameKind kind, std::string_view line) {
    check(kind == FrameKind::line || line.empty(), "too_long with a non-empty line", line);
    check(line.find('\n') == std::string_view::npos, "line holds an LF", line);
    check_bounded(framer);
    events.push_back(kind == FrameKind::line ? "L" + std::string(line) : "T");
    return events.size() != stop_at;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto header = [&input]() -> std::uint8_t {
    if (input.empty()) return 0;
    const auto byte = static_cast<std::uint8_t>(input.front());
    input.remove_prefix(1);
    return byte;
  };
  const std::uint8_t limit = header();
  const std::size_t max_line = limit == 0xFF ? SIZE_MAX : 1 + limit % 64;
  const std::uint8_t stop = header();
  const std::size_t stop_at = stop >= 0xF0 ? stop - 0xEF : 0;
  std::vector<std::size_t> sizes(header() % 8);
  for (std::size_t& s : sizes)
    s = header();
  const std::string_view stream = input;
  const Events expected = reference(stream, max_line);

  LineFramer framer(max_line);
  check(framer.max_line() == max_line, "max_line() is not the limit given");
  Recorder rec{framer, stop_at, {}};
  bool stopped = false;
  for (std::size_t pos = 0, k = 0; pos < stream.size() && !stopped; ++k) {
    std::size_t length = sizes.empty() ? stream.size() : sizes[k % sizes.size()];
    if (length == 0) {
      check(framer.feed({}, rec), "feeding an empty chunk stopped");
      length = 1;
    }
    const std::string_view chunk = stream.substr(pos, length);
    pos += chunk.size();
    const std::size_t before = rec.events.size();
    stopped = !framer.feed(chunk, rec);
    check(stopped == (stop_at != 0 && before < stop_at && rec.events.size() >= stop_at),
          "feed's result does not say whether on_frame stopped it");
    check_bounded(framer);
  }
  if (stopped) {
    const bool prefix = rec.events.size() == stop_at && expected.size() >= stop_at &&
                        std::equal(rec.events.begin(), rec.events.end(), expected.begin());
    if (!prefix) {
      dschat::fuzz::fail("events up to the stop differ from the reference",
                         dschat::fuzz::bracketed(rec.events) + "  expected a prefix of  " +
                             dschat::fuzz::bracketed(expected));
    }
  } else {
    framer.finish(rec);
    if (rec.events != expected) {
      dschat::fuzz::fail(
          "events differ from the reference",
          dschat::fuzz::bracketed(rec.events) + "  expected  " + dschat::fuzz::bracketed(expected));
    }
  }

  // finish() resets: the same framer then frames the whole stream again from scratch.
  framer.finish([](FrameKind, std::string_view) {});
  check(framer.buffered() == 0, "buffered() != 0 after finish()");
  Recorder again{framer, 0, {}};
  check(framer.feed(stream, again), "feed stopped without being asked");
  framer.finish(again);
  check(again.events == expected, "events after finish() differ from the reference",
        dschat::fuzz::bracketed(again.events));
  return 0;
}
