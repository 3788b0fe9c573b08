// libFuzzer target for the cluster envelope (src/core/relay_envelope.hpp) and the relay that reads it.
// Each line of the input is one envelope:
// - parse_envelope never crashes; whatever it accepts re-encodes (encode_envelope does not throw) to a
//   canonical line that parses to the same value and encodes to the same line again;
// - a Relay fed every line, with time passing, never crashes, and its /who stays consistent.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "core/relay.hpp"
#include "core/relay_envelope.hpp"

using dschat::fuzz::check;

namespace {

void round_trip(std::string_view line) {
  const auto parsed = dschat::parse_envelope(line);
  if (!parsed) return;
  const std::string canonical = dschat::encode_envelope(*parsed);
  const auto again = dschat::parse_envelope(canonical);
  check(again.has_value(), "a re-encoded envelope does not parse", canonical);
  check(*again == *parsed, "a re-encoded envelope parses to another value", canonical);
  check(dschat::encode_envelope(*again) == canonical, "encoding is not stable", canonical);
  check(canonical.size() <= line.size() + 32, "the canonical form grew too much", canonical);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace std::chrono_literals;
  dschat::Relay::Clock::time_point now{};
  dschat::Relay relay(dschat::RelayConfig{"self", 1, 1000, 100ms}, now);
  relay.join(1, now);
  std::vector<dschat::RelayEffect> effects;
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    round_trip(line);
    relay.receive(line, now, effects);
    now += 30ms;
    relay.tick(now, effects);
    start = end + 1;
  }
  const dschat::RelayWho who = relay.who();
  check(who.total == who.names.size(), "/who counts differ from its names");
  check(who.here == 1, "the local member is not counted here");
  check(!relay.local_name(1).empty(), "the local member lost its name");
  for (const std::string& payload : relay.take_outbox())
    check(dschat::parse_envelope(payload).has_value(), "the relay sent an envelope that does not parse",
          payload);
  return 0;
}
