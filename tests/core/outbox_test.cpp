#include "core/outbox.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using dschat::make_message;
using dschat::Outbox;

namespace {

/// The unsent pieces, as strings.
std::vector<std::string> pieces(const Outbox& box, std::size_t max_pieces = 64) {
  std::vector<std::string> out;
  const std::size_t given =
      box.gather([&](const char* data, std::size_t size) { out.emplace_back(data, size); }, max_pieces);
  CHECK(given == out.size());
  return out;
}

using Pieces = std::vector<std::string>;

}  // namespace

TEST_CASE("make_message") {
  const auto msg = make_message("hello");
  CHECK(*msg == "hello\n");
  CHECK(*make_message("") == "\n");
}

TEST_CASE("Outbox::push") {
  Outbox box(10);
  CHECK(box.empty());
  CHECK(box.max_bytes() == 10);

  SUBCASE("up to the limit exactly") {
    CHECK(box.push(make_message("abcd")));  // 5 bytes
    CHECK(box.push(make_message("efgh")));  // 10 bytes: exactly the limit
    CHECK(box.bytes() == 10);
    CHECK_FALSE(box.push(make_message("")));  // 1 byte more is refused
    CHECK(box.bytes() == 10);
    CHECK(pieces(box) == Pieces{"abcd\n", "efgh\n"});
  }

  SUBCASE("a refused message queues nothing and smaller ones still fit") {
    CHECK(box.push(make_message("abcdef")));      // 7
    CHECK_FALSE(box.push(make_message("abcd")));  // 12 > 10
    CHECK(box.bytes() == 7);
    CHECK(box.push(make_message("ab")));  // 10
    CHECK(pieces(box) == Pieces{"abcdef\n", "ab\n"});
  }

  SUBCASE("a message larger than the whole limit") {
    CHECK_FALSE(box.push(make_message(std::string(10, 'x'))));
    CHECK(box.empty());
  }

  SUBCASE("the same message can be queued in many outboxes") {
    const auto msg = make_message("hi");
    Outbox other(10);
    CHECK(box.push(msg));
    CHECK(other.push(msg));
    CHECK(msg.use_count() == 3);
  }

  SUBCASE("empty or null messages have nothing to send") {
    CHECK(box.push(nullptr));
    CHECK(box.push(std::make_shared<const std::string>()));
    CHECK(box.empty());
  }
}

TEST_CASE("Outbox::consume") {
  Outbox box(100);
  box.push(make_message("hello"));  // 6
  box.push(make_message("big"));    // 4
  box.push(make_message("x"));      // 2

  SUBCASE("part of the front message") {
    box.consume(2);
    CHECK(box.bytes() == 10);
    CHECK(pieces(box) == Pieces{"llo\n", "big\n", "x\n"});
    box.consume(3);
    CHECK(pieces(box) == Pieces{"\n", "big\n", "x\n"});
    box.consume(1);
    CHECK(pieces(box) == Pieces{"big\n", "x\n"});
    CHECK(box.bytes() == 6);
  }

  SUBCASE("across messages, ending inside one") {
    box.consume(8);
    CHECK(box.bytes() == 4);
    CHECK(pieces(box) == Pieces{"g\n", "x\n"});
  }

  SUBCASE("everything") {
    box.consume(12);
    CHECK(box.empty());
    CHECK(box.bytes() == 0);
    CHECK(pieces(box).empty());
    CHECK(box.push(make_message("again")));
    CHECK(pieces(box) == Pieces{"again\n"});
  }

  SUBCASE("nothing") {
    box.consume(0);
    CHECK(box.bytes() == 12);
    CHECK(pieces(box).size() == 3);
  }

  SUBCASE("sent bytes free room for more") {
    Outbox small(6);
    small.push(make_message("hello"));
    CHECK_FALSE(small.push(make_message("")));
    small.consume(1);
    CHECK(small.push(make_message("")));
    CHECK(pieces(small) == Pieces{"ello\n", "\n"});
  }
}

TEST_CASE("Outbox::gather") {
  Outbox box(100);
  for (const char* text : {"a", "bb", "ccc", "dddd"})
    box.push(make_message(text));

  CHECK(pieces(box, 2) == Pieces{"a\n", "bb\n"});
  CHECK(pieces(box, 0).empty());
  CHECK(pieces(box, 99).size() == 4);

  box.consume(3);  // "a\n" and the first "b"
  CHECK(pieces(box, 1) == Pieces{"b\n"});
  CHECK(pieces(box, 3) == Pieces{"b\n", "ccc\n", "dddd\n"});
  CHECK(box.bytes() == 11);
}

TEST_CASE("Outbox::clear") {
  Outbox box(10);
  box.push(make_message("abc"));
  box.consume(1);
  box.clear();
  CHECK(box.empty());
  CHECK(box.bytes() == 0);
  CHECK(box.push(make_message("123456789")));  // the full limit is available again
  CHECK(pieces(box) == Pieces{"123456789\n"});
}

TEST_CASE("Outbox keeps order over a long queue sent in uneven writes") {
  // A slow client's queue: pushes and partial writes interleave over thousands of messages, so blocks
  // are added at the back and given back at the front many times on the way.
  Outbox box(1 << 20);
  std::string expected;  // every byte queued, in order
  std::string sent;      // every byte handed out by gather() and consumed, in order
  int next = 0;
  for (int round = 0; round < 400; ++round) {
    for (int i = 0; i < 7; ++i) {
      const std::string text = "line " + std::to_string(next++);
      REQUIRE(box.push(make_message(text)));
      expected += text + '\n';
    }
    std::string front;
    for (const auto& piece : pieces(box, 3))
      front += piece;
    const std::size_t n = std::min(front.size(), static_cast<std::size_t>(round % 5 == 0 ? 1 : 40));
    sent += front.substr(0, n);
    box.consume(n);
  }
  while (!box.empty()) {
    const Pieces rest = pieces(box, 64);
    for (const auto& piece : rest) {
      sent += piece;
      box.consume(piece.size());
    }
  }
  CHECK(box.bytes() == 0);
  CHECK(sent == expected);
}

TEST_CASE("Outbox lets go of messages once they are sent") {
  // A message shared by many outboxes is freed when the last one has sent it, not when its queue next
  // moves.
  Outbox box(1 << 20);
  const auto first = make_message("first");
  const auto second = make_message("second");
  box.push(first);
  box.push(second);
  CHECK(first.use_count() == 2);
  box.consume(3);  // part of the first: still needed
  CHECK(first.use_count() == 2);
  box.consume(3);  // the rest of it
  CHECK(first.use_count() == 1);
  CHECK(second.use_count() == 2);
  box.consume(7);
  CHECK(second.use_count() == 1);
  CHECK(box.empty());

  for (int i = 0; i < 1000; ++i)  // a burst far beyond the slots an emptied outbox keeps
    box.push(first);
  CHECK(first.use_count() == 1001);
  box.clear();
  CHECK(first.use_count() == 1);
}

TEST_CASE("Outbox memory follows what is queued, not the largest burst") {
  Outbox box(1 << 20);
  CHECK(box.blocks() == 0);  // a client that was never sent anything

  const auto msg = make_message("notice");  // 7 bytes
  for (int i = 0; i < 64; ++i)              // a join storm
    box.push(msg);
  const std::size_t burst_blocks = box.blocks();
  CHECK(burst_blocks >= 2);

  box.consume(7 * 60);  // most of it sent: the blocks behind the front are already given back
  CHECK(box.blocks() == 1);
  CHECK(pieces(box).size() == 4);
  box.consume(7 * 4);
  CHECK(box.empty());
  CHECK(box.blocks() == 1);  // drained: one block is kept for the next message

  for (int round = 0; round < 100; ++round) {  // a client that keeps up: one line at a time
    box.push(msg);
    CHECK(box.blocks() == 1);
    box.consume(7);
  }
  CHECK(msg.use_count() == 1);
}

TEST_CASE("Outbox::release gives back the kept block only when nothing is queued") {
  Outbox box(1 << 20);
  box.release();  // never used: nothing to give back
  CHECK(box.blocks() == 0);

  const auto msg = make_message("line");  // 5 bytes
  box.push(msg);
  box.push(msg);
  box.release();  // two messages wait: they stay
  CHECK(box.blocks() == 1);
  CHECK(box.bytes() == 10);
  box.consume(7);  // one and a half sent
  box.release();
  CHECK(box.bytes() == 3);
  CHECK(pieces(box) == Pieces{"ne\n"});

  box.consume(3);
  CHECK(box.blocks() == 1);  // drained: kept until released
  box.release();
  CHECK(box.blocks() == 0);
  CHECK(msg.use_count() == 1);

  box.push(msg);  // the next message takes a new block
  CHECK(box.blocks() == 1);
  CHECK(pieces(box) == Pieces{"line\n"});
}

TEST_CASE("Outbox frees a very long queue") {
  // The longest chain a client can cause: one-byte lines up to the limit. Freed block by block, not by a
  // recursion as deep as the chain.
  const auto one_byte = make_message("");
  {
    Outbox box(1 << 20);
    while (box.push(one_byte)) {
    }
    CHECK(box.bytes() == box.max_bytes());
    CHECK(box.blocks() == (std::size_t{1} << 20) / 8);
  }
  CHECK(one_byte.use_count() == 1);
}

namespace {

/// Line i of text as a frame: a two-byte header of its own (as a WebSocket text frame has) and the line.
dschat::PrefixedSlice frame_of(const dschat::Message& text, std::uint32_t begin, std::uint32_t size) {
  dschat::PrefixedSlice frame;
  frame.text = text;
  frame.begin = begin;
  frame.size = size;
  frame.prefix = {'\x81', static_cast<char>(size)};
  frame.prefix_size = 2;
  return frame;
}

}  // namespace

TEST_CASE("FrameOutbox gathers each frame's own header and the shared text, not a copy of it") {
  const auto shared = make_message("* ann joined\n* bob joined", "");  // one Message, two lines
  dschat::FrameOutbox box(100);
  REQUIRE(box.push(frame_of(shared, 0, 12)));
  REQUIRE(box.push(frame_of(shared, 13, 12)));
  CHECK(box.bytes() == 28);
  CHECK(shared.use_count() == 3);  // the outbox holds the Message itself

  std::vector<std::pair<const char*, std::size_t>> raw;
  CHECK(box.gather([&](const char* data, std::size_t size) { raw.emplace_back(data, size); }, 64) == 4);
  REQUIRE(raw.size() == 4);
  CHECK(std::string(raw[0].first, raw[0].second) == "\x81\x0c");
  CHECK(raw[1].first == shared->data());  // the line is read from the room's text in place
  CHECK(raw[1].second == 12);
  CHECK(raw[3].first == shared->data() + 13);
  CHECK(raw[3].second == 12);

  std::vector<std::string> got;
  const auto add = [&](const char* data, std::size_t size) { got.emplace_back(data, size); };
  CHECK(box.gather(add, 3) == 3);  // a frame may be cut between its header and its line
  CHECK(got == Pieces{"\x81\x0c", "* ann joined", "\x81\x0c"});

  CHECK(box.consume(1) == 0);  // into the first header
  got.clear();
  box.gather(add, 2);
  CHECK(got == Pieces{"\x0c", "* ann joined"});
  CHECK(box.consume(13) == 1);  // the rest of the first frame
  CHECK(box.consume(5) == 0);   // the second header and "* b"
  got.clear();
  box.gather(add, 64);
  CHECK(got == Pieces{"ob joined"});
  CHECK(box.consume(9) == 1);
  CHECK(box.empty());
  CHECK(shared.use_count() == 1);  // sent: the outbox lets go of the Message
}

TEST_CASE("FrameOutbox counts a frame's header against its limit and skips an empty one") {
  const auto shared = make_message("12345678", "");
  dschat::FrameOutbox box(20);
  REQUIRE(box.push(frame_of(shared, 0, 8)));  // 10 bytes
  CHECK(box.push(dschat::PrefixedSlice{}));   // nothing to send: accepted, not queued
  CHECK(box.bytes() == 10);
  REQUIRE(box.push(frame_of(shared, 0, 8)));      // 20
  CHECK_FALSE(box.push(frame_of(shared, 0, 0)));  // a header alone is 2 bytes more than the limit
  CHECK(box.bytes() == 20);
}
