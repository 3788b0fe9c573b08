// libFuzzer target for Outbox (--max-queue, docs/protocol.md): the input is a script of pushes,
// partial sends, gathers and clears played against an Outbox and against a reference model (a deque of
// strings and the count of bytes sent from the front). After every step both must hold the same unsent bytes
// in the same order, and the Outbox must never hold more than its bound: a push is refused exactly when the
// message would take the unsent bytes past max_bytes, and a refused push changes nothing.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "check.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"
#include "script.hpp"

using dschat::fuzz::check;
using dschat::fuzz::Script;

namespace {

/// The reference: whole messages in order, and how much of the first one has been sent.
struct Model {
  std::deque<std::string> messages;
  std::size_t front_sent = 0;
  std::size_t bytes = 0;

  std::string unsent() const {
    std::string out;
    for (const std::string& msg : messages)
      out += msg;
    return out.substr(front_sent);
  }
  void consume(std::size_t n) {
    bytes -= n;
    while (n > 0) {
      const std::size_t left = messages.front().size() - front_sent;
      if (n < left) {
        front_sent += n;
        return;
      }
      n -= left;
      messages.pop_front();
      front_sent = 0;
    }
  }
};

/// What outbox.gather gives for at most max_pieces, concatenated; pieces counts them.
std::string gathered(const dschat::Outbox& outbox, std::size_t max_pieces, std::size_t& pieces) {
  std::string out;
  pieces = outbox.gather([&](const char* data, std::size_t size) { out.append(data, size); }, max_pieces);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script(data, size);
  // A small bound (0 to 1023 bytes) so that scripts reach it often.
  const std::size_t max_bytes = (std::size_t{script.next()} << 2) | (script.next() & 3);
  dschat::Outbox outbox(max_bytes);
  Model model;
  char fill = 'a';

  while (!script.done()) {
    const std::uint8_t op = script.next();
    switch (op % 4) {
      case 0:
      case 1: {  // push a message of 0 to 255 bytes (lines of fill characters, so order shows)
        const std::size_t length = script.next();
        std::string text(length, fill);
        if (length > 0) text.back() = '\n';
        fill = fill == 'z' ? 'a' : static_cast<char>(fill + 1);
        const bool fits = length <= max_bytes - model.bytes;
        const bool pushed = outbox.push(std::make_shared<const std::string>(text));
        check(pushed == fits,
              pushed ? "push accepted a message past max_bytes" : "push refused a message that fits", text);
        if (pushed && length > 0) {
          model.messages.push_back(text);
          model.bytes += length;
        }
        break;
      }
      case 2: {  // a send of n bytes, at most what is unsent
        const std::size_t wanted = (std::size_t{script.next()} << 2) | (op >> 6);
        const std::size_t n = model.bytes == 0 ? 0 : wanted % (model.bytes + 1);
        outbox.consume(n);
        model.consume(n);
        break;
      }
      case 3: {  // rarely a clear, else a gather of a few pieces
        if (op >> 2 == 0x3F) {
          outbox.clear();
          model = Model{};
          break;
        }
        const std::size_t max_pieces = (op >> 2) % 20;
        std::size_t pieces = 0;
        const std::string got = gathered(outbox, max_pieces, pieces);
        check(pieces <= max_pieces, "gather gave more pieces than asked");
        const std::string unsent = model.unsent();
        check(unsent.compare(0, got.size(), got) == 0, "gather is not a prefix of the unsent bytes", got);
        check(max_pieces == 0 || pieces == std::min(max_pieces, model.messages.size()),
              "gather gave the wrong number of pieces");
        break;
      }
    }
    check(outbox.bytes() == model.bytes, "bytes() differs from the reference");
    check(outbox.bytes() <= outbox.max_bytes(), "the outbox holds more than max_bytes");
    check(outbox.empty() == (model.bytes == 0), "empty() differs from the reference");
    check(outbox.max_bytes() == max_bytes, "max_bytes() changed");
  }
  std::size_t pieces = 0;
  const std::string all = gathered(outbox, model.messages.size() + 1, pieces);
  check(all == model.unsent(), "the unsent bytes differ from the reference", all);
  check(pieces == model.messages.size(), "gather gave the wrong number of pieces at the end");
  return 0;
}
