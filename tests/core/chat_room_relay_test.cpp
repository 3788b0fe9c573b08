// ChatRoom with a RoomRelay: two rooms joined through real Relay objects, envelopes carried by hand.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/chat_room.hpp"
#include "room_fixture.hpp"

using dschat::ChatRoomOptions;
using dschat::Relay;
using dschat::RelayConfig;
using dschat::RelayEffect;
using dschat::RelayWho;
using dschat::test::RoomFixture;
using namespace std::chrono_literals;

namespace {

/// The texts a peer got, one a line, for readable failures.
std::string all(const dschat::test::FakePeer& peer) {
  std::string out;
  for (const auto& text : peer.texts())
    out += text + "\n";
  return out;
}

/// A RoomRelay over a real Relay at a time the test moves.
struct TestRelay : dschat::RoomRelay {
  Relay relay;
  Relay::Clock::time_point& now;

  TestRelay(const char* node, std::uint64_t epoch, Relay::Clock::time_point& clock)
      : relay(RelayConfig{node, epoch, 1'700'000'000'000, 200ms}, clock), now(clock) {}

  std::string guest_name(std::uint64_t guest) const override { return relay.guest_name(guest); }
  void joined(std::uint64_t guest) override { relay.join(guest, now); }
  void said(std::uint64_t guest, std::string_view text) override { relay.chat(guest, text, now); }
  void acted(std::uint64_t guest, std::string_view text) override { relay.me(guest, text, now); }
  bool claim(std::uint64_t guest, std::string_view name) override { return relay.nick(guest, name, now); }
  void left(std::uint64_t guest, std::string_view reason) override { relay.leave(guest, reason, now); }
  RelayWho who() const override { return relay.who(); }
  std::string holder(std::string_view name) const override { return relay.holder(name); }
};

/// Two servers, a and b, each a room with its relay; carry() delivers what each published to the other.
struct Pair {
  Relay::Clock::time_point now{std::chrono::seconds(1000)};
  TestRelay relay_a{"a", 1, now};
  TestRelay relay_b{"b", 2, now};
  RoomFixture a;
  RoomFixture b;

  explicit Pair(ChatRoomOptions options = {}) : a(options), b(options) {
    a.room.set_relay(&relay_a);
    b.room.set_relay(&relay_b);
    relay_a.relay.connected(now);
    relay_b.relay.connected(now);
    carry();
  }

  void carry() {
    for (int round = 0; round < 4; ++round) {
      std::vector<RelayEffect> effects;
      for (const auto& payload : relay_a.relay.take_outbox())
        relay_b.relay.receive(payload, now, effects);
      for (const auto& effect : effects)
        b.room.remote(effect);
      effects.clear();
      for (const auto& payload : relay_b.relay.take_outbox())
        relay_a.relay.receive(payload, now, effects);
      for (const auto& effect : effects)
        a.room.remote(effect);
    }
  }
};

}  // namespace

TEST_CASE("ChatRoom with a relay: names, chat, /me, nick, /who and leaves cross servers once") {
  Pair pair;
  pair.a.join();
  pair.carry();
  pair.b.join();
  CHECK(pair.b.peer(0).texts().at(0) == "* welcome guest-1@b — 2 online — /help lists commands");
  pair.carry();
  CHECK(pair.a.peer(0).last() == "* guest-1@b joined");
  pair.a.clear_all();
  pair.b.clear_all();

  pair.a.room.on_line(pair.a.id(0), "hello");
  CHECK(pair.a.peer(0).got.empty());  // no echo
  pair.carry();
  CHECK(all(pair.b.peer(0)) == "<guest-1@a> hello\n");

  pair.b.room.on_line(pair.b.id(0), "/me waves");
  pair.carry();
  CHECK(pair.a.peer(0).last() == "<guest-1@b> *waves*");

  pair.a.room.on_line(pair.a.id(0), "/nick alice");
  pair.carry();
  CHECK(pair.b.peer(0).last() == "* guest-1@a is now alice");
  pair.b.room.on_line(pair.b.id(0), "/nick ALICE");
  CHECK(pair.b.peer(0).last() == "! name taken: ALICE (on another server)");
  pair.b.room.on_line(pair.b.id(0), "/nick guest-1");
  CHECK(pair.b.peer(0).last().starts_with("! reserved name: guest-1"));

  pair.b.room.on_line(pair.b.id(0), "/who");
  CHECK(pair.b.peer(0).last() == "* 2 online (1 here): alice, guest-1@b");

  pair.a.room.leave(pair.a.id(0), "connection reset");
  pair.carry();
  CHECK(pair.b.peer(0).last() == "* alice left (connection reset)");
}

TEST_CASE("ChatRoom with a relay: a silent server's members leave in one notice, then are back") {
  Pair pair;
  pair.b.join();
  pair.b.join();
  pair.b.room.on_line(pair.b.id(0), "hi");  // announced at once
  pair.b.room.on_line(pair.b.id(1), "hi");
  pair.a.join();
  pair.carry();
  pair.a.clear_all();
  std::vector<RelayEffect> effects;
  pair.now += 800ms;  // 4 heartbeats of b unheard
  pair.relay_a.relay.tick(pair.now, effects);
  for (const auto& effect : effects)
    pair.a.room.remote(effect);
  CHECK(pair.a.peer(0).texts() == std::vector<std::string>{"* 2 left (server b unreachable)"});
  pair.relay_b.relay.tick(pair.now, effects);  // b's heartbeat gets through again
  pair.relay_b.relay.connected(pair.now);
  pair.carry();
  CHECK(pair.a.peer(0).last() == "* 2 are back (server b)");
}

TEST_CASE("ChatRoom with a relay: raw rooms carry lines only") {
  ChatRoomOptions raw;
  raw.raw = true;
  Pair pair(raw);
  pair.a.join();
  pair.b.join();
  pair.carry();
  CHECK(pair.a.peer(0).got.empty());
  pair.a.room.on_line(pair.a.id(0), "plain");
  pair.carry();
  CHECK(all(pair.b.peer(0)) == "plain\n");
}

TEST_CASE("ChatRoom with a relay: the loser of a name collision is renamed back") {
  Pair pair;
  pair.a.join();
  pair.b.join();
  pair.a.room.on_line(pair.a.id(0), "x");
  pair.b.room.on_line(pair.b.id(0), "x");
  pair.carry();
  // Both claim alice before hearing of the other's claim; a's clock is earlier.
  pair.a.room.on_line(pair.a.id(0), "/nick alice");
  pair.now += 5ms;
  pair.b.room.on_line(pair.b.id(0), "/nick alice");
  pair.a.clear_all();
  pair.b.clear_all();
  pair.carry();
  CHECK(all(pair.b.peer(0)) ==
        "* guest-1@a is now alice\n* alice is taken on server a — you are guest-1@b again\n");
  CHECK(pair.a.peer(0).last() == "* alice is now guest-1@b");
  CHECK(pair.b.room.name(pair.b.id(0)) == "guest-1@b");
  CHECK(pair.a.room.name(pair.a.id(0)) == "alice");
}

TEST_CASE("ChatRoom with a relay: /who NAME finds members of every reachable server") {
  Pair pair;
  pair.a.join();
  pair.b.join();
  pair.b.join();
  pair.a.room.on_line(pair.a.id(0), "x");
  pair.b.room.on_line(pair.b.id(0), "x");
  pair.b.room.on_line(pair.b.id(1), "x");
  pair.b.room.on_line(pair.b.id(0), "/nick Bob");
  pair.carry();
  const auto who = [&](std::string_view name) {
    pair.a.room.on_line(pair.a.id(0), "/who " + std::string(name));
    return pair.a.peer(0).last();
  };
  CHECK(who("bob") == "* Bob is online");  // folded like a local name
  CHECK(who("guest-2@b") == "* guest-2@b is online");
  CHECK(who("guest-1@a") == "* guest-1@a is online");
  CHECK(who("guest-1") == "* guest-1@a is online");        // a local guest, by its number as before
  CHECK(who("guest-1@b") == "! guest-1@b is not online");  // renamed to Bob
  CHECK(who("carol") == "! carol is not online");
  CHECK(who("guest-2@B") == "! guest-2@B is not online");  // not a node name
  // Once b is silent for 3.5 heartbeats its members are no longer online.
  std::vector<RelayEffect> effects;
  pair.now += 800ms;
  pair.relay_a.relay.tick(pair.now, effects);
  for (const auto& effect : effects)
    pair.a.room.remote(effect);
  CHECK(who("bob") == "! bob is not online");
  CHECK(who("guest-2@b") == "! guest-2@b is not online");
}

TEST_CASE("ChatRoom with a relay: events missing by their numbers are reported, not called lines") {
  Pair pair;
  pair.a.join();
  pair.b.join();
  pair.a.room.on_line(pair.a.id(0), "first");
  pair.carry();
  pair.b.clear_all();
  pair.a.join();  // a join and a line b never gets
  pair.a.room.on_line(pair.a.id(1), "lost");
  pair.relay_a.relay.take_outbox();
  pair.a.room.on_line(pair.a.id(0), "after");
  pair.carry();
  CHECK(pair.b.peer(0).texts().at(0) == "* 2 lines or membership changes from server a were lost");
  CHECK(pair.b.peer(0).texts().at(1) == "<guest-1@a> after");
  pair.b.clear_all();
  pair.a.room.on_line(pair.a.id(0), "gone");
  pair.relay_a.relay.take_outbox();
  pair.a.room.on_line(pair.a.id(0), "again");
  pair.carry();
  CHECK(pair.b.peer(0).texts().at(0) == "* 1 line or membership change from server a was lost");
}
