// libFuzzer target for the NATS codec (src/core/nats_protocol.hpp). Two properties per input:
// 1. The input as a server stream decodes to the same events and the same error however it is cut into
//    chunks (the cuts are taken from the input's first bytes), and memory stays within the limits.
// 2. The input as a script builds messages with random subjects, reply subjects, sids and payloads; the
//    encoder's PUB bytes, relayed as the server does (`PUB` becomes `MSG <subject> <sid>`), decode to
//    exactly those messages, whatever the cuts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "core/nats_protocol.hpp"
#include "script.hpp"

using dschat::NatsDecoder;
using dschat::NatsEvent;
using dschat::fuzz::check;
using dschat::fuzz::Script;

namespace {

constexpr std::size_t max_payload = 512;

struct Decoded {
  std::vector<NatsEvent> events;
  std::string error;
};

/// Decodes stream cut into pieces whose sizes (1..16) come from cuts, repeated.
Decoded decode(std::string_view stream, std::string_view cuts) {
  NatsDecoder decoder(max_payload);
  Decoded out;
  std::size_t at = 0;
  for (std::size_t i = 0; at < stream.size(); ++i) {
    const std::size_t step =
        cuts.empty() ? stream.size() : 1 + static_cast<unsigned char>(cuts[i % cuts.size()]) % 16;
    decoder.feed(stream.substr(at, step), out.events);
    at += step;
    check(decoder.buffered() <= dschat::nats_max_control_line + 1 + max_payload, "decoder holds too much");
  }
  out.error = decoder.error();
  return out;
}

std::string describe(const Decoded& decoded) {
  std::string out = std::to_string(decoded.events.size()) + " events, error: " + decoded.error;
  return out;
}

void same_whatever_the_cuts(std::string_view data) {
  const std::string_view cuts = data.substr(0, 4);
  const std::string_view stream = data.substr(cuts.size());
  const Decoded whole = decode(stream, {});
  const Decoded cut = decode(stream, cuts);
  check(cut.events == whole.events && cut.error == whole.error, "events depend on how the stream is cut",
        describe(cut) + " / " + describe(whole));
}

std::string token(Script& script, std::size_t max_size) {
  static constexpr std::string_view alphabet = "abcxyz09-_>*$AZ\xc3\xa9";
  std::string out;
  const std::size_t size = 1 + script.next() % max_size;
  for (std::size_t i = 0; i < size; ++i)
    out.push_back(alphabet[script.next() % alphabet.size()]);
  return out;
}

std::string subject(Script& script) {
  std::string out = token(script, 8);
  for (int more = script.next() % 4; more > 0; --more)
    out.append(".").append(token(script, 8));
  return out;
}

void round_trip(const std::uint8_t* data, std::size_t size) {
  Script script(data, size);
  std::string stream;
  std::vector<NatsEvent> expected;
  std::string cuts;
  for (int n = 0; n < 16 && !script.done(); ++n) {
    cuts.push_back(static_cast<char>(script.next()));
    if (script.next() % 4 == 0) {
      dschat::append_nats_ping(stream);
      expected.push_back(NatsEvent{NatsEvent::Kind::ping, {}, {}, {}});
      continue;
    }
    NatsEvent event;
    event.kind = NatsEvent::Kind::msg;
    event.msg.subject = subject(script);
    event.msg.sid = script.next() * 1000003ULL;
    if (script.next() % 2 == 0) event.msg.reply_to = subject(script);
    for (std::size_t left = script.next() % 64; left > 0; --left)
      event.msg.payload.push_back(static_cast<char>(script.next()));
    check(dschat::is_valid_nats_subject(event.msg.subject), "generated an invalid subject",
          event.msg.subject);

    std::string pub;
    dschat::append_nats_pub(pub, event.msg.subject, event.msg.payload);
    const std::string prefix = "PUB " + event.msg.subject + " ";
    check(pub.starts_with(prefix), "PUB does not start with its subject", pub);
    stream.append("MSG ")
        .append(event.msg.subject)
        .append(" ")
        .append(std::to_string(event.msg.sid))
        .append(" ");
    if (!event.msg.reply_to.empty()) stream.append(event.msg.reply_to).append("\t ");
    stream.append(pub.substr(prefix.size()));
    expected.push_back(std::move(event));
  }
  for (const std::string_view how : {std::string_view{}, std::string_view(cuts)}) {
    const Decoded decoded = decode(stream, how);
    check(decoded.error.empty(), "encoded messages do not decode", decoded.error);
    check(decoded.events == expected, "round trip changed the messages", describe(decoded));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  same_whatever_the_cuts(std::string_view(reinterpret_cast<const char*>(data), size));
  round_trip(data, size);
  return 0;
}
