#include "core/relay.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using dschat::NodeLeft;
using dschat::Relay;
using dschat::RelayConfig;
using dschat::RelayEffect;
using EffectKind = dschat::RelayEffect::Kind;
using namespace std::chrono_literals;

namespace {

using Effects = std::vector<RelayEffect>;
const Relay::Clock::time_point t0{};

Relay make(std::string node, std::uint64_t epoch = 1, std::uint64_t wall_ms = 1000) {
  return Relay(RelayConfig{std::move(node), epoch, wall_ms, 2000ms}, t0);
}

/// Publishes from's outbox to every relay in to; returns the effects each one shows, in the same order.
std::vector<Effects> deliver(Relay& from, const std::vector<Relay*>& to, Relay::Clock::time_point now) {
  std::vector<Effects> effects(to.size());
  for (const std::string& payload : from.take_outbox()) {
    for (std::size_t i = 0; i < to.size(); ++i)
      to[i]->receive(payload, now, effects[i]);
  }
  return effects;
}

Effects deliver(Relay& from, Relay& to, Relay::Clock::time_point now) {
  return deliver(from, {&to}, now).front();
}

RelayEffect said(EffectKind kind, std::string node, std::uint64_t id, std::string name,
                 std::string text = {}) {
  RelayEffect out;
  out.kind = kind;
  out.node = std::move(node);
  out.id = id;
  out.name = std::move(name);
  out.text = std::move(text);
  return out;
}

RelayEffect bulk(EffectKind kind, std::string node, std::vector<std::string> names,
                 NodeLeft why = NodeLeft::unreachable) {
  RelayEffect out;
  out.kind = kind;
  out.node = std::move(node);
  out.count = names.size();
  out.names = std::move(names);
  out.why = why;
  return out;
}

RelayEffect lost(std::string node, std::uint64_t count) {
  RelayEffect out;
  out.kind = EffectKind::lost;
  out.node = std::move(node);
  out.count = count;
  return out;
}

/// Whether relay's outbox holds an envelope starting with prefix (the outbox is emptied).
bool sent(Relay& relay, std::string_view prefix) {
  bool found = false;
  for (const std::string& payload : relay.take_outbox())
    found = found || payload.starts_with(prefix);
  return found;
}

/// How many envelopes of relay's outbox start with prefix (the outbox is emptied).
std::size_t count_sent(Relay& relay, std::string_view prefix) {
  std::size_t count = 0;
  for (const std::string& payload : relay.take_outbox())
    count += payload.starts_with(prefix) ? 1 : 0;
  return count;
}

}  // namespace

TEST_CASE("Relay: local events become envelopes with seq and a hybrid logical clock") {
  Relay a = make("a", 0xabc, 5000);
  CHECK(a.guest_name(7) == "guest-7@a");
  a.join(7, t0);
  a.chat(7, "hello there", t0 + 1ms);
  CHECK(a.nick(7, "alice", t0 + 1ms));
  a.me(7, "waves", t0 + 10ms);
  a.leave(7, "quit", t0 + 20ms);
  a.chat(8, "unknown member: nothing sent", t0);
  CHECK(a.take_outbox() == std::vector<std::string>{
                               "DSC1 join a 0000000000000abc 1 5000 7 guest-7@a",
                               "DSC1 chat a 0000000000000abc 2 5001 7 guest-7@a hello there",
                               "DSC1 nick a 0000000000000abc 3 5002 7 guest-7@a alice",
                               "DSC1 me a 0000000000000abc 4 5010 7 alice waves",
                               "DSC1 leave a 0000000000000abc 5 5020 7 alice quit",
                           });
  CHECK(a.take_outbox().empty());
}

TEST_CASE("Relay::receive turns remote events into effects") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  a.chat(1, "hi b", t0);
  a.me(1, "waves", t0);
  CHECK(a.nick(1, "alice", t0));
  a.leave(1, "bye now", t0);
  RelayEffect nick = said(EffectKind::nick, "a", 1, "guest-1@a");
  nick.new_name = "alice";
  CHECK(deliver(a, b, t0) == Effects{said(EffectKind::join, "a", 1, "guest-1@a"),
                                     said(EffectKind::chat, "a", 1, "guest-1@a", "hi b"),
                                     said(EffectKind::me, "a", 1, "guest-1@a", "waves"), nick,
                                     said(EffectKind::leave, "a", 1, "alice", "bye now")});
  CHECK(b.who().total == 0);
}

TEST_CASE("Relay::receive asks the origin for its roster when it first hears of it") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  deliver(a, b, t0);
  CHECK(sent(b, "DSC1 sync b 0000000000000001 0 "));
}

TEST_CASE("Relay::receive drops duplicates and counts gaps") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  a.chat(1, "one", t0);
  a.chat(1, "two", t0);
  a.chat(1, "three", t0);
  a.chat(1, "four", t0);
  const std::vector<std::string> out = a.take_outbox();
  Effects effects;
  b.receive(out[0], t0, effects);
  b.receive(out[1], t0, effects);
  b.receive(out[1], t0, effects);  // duplicate
  b.receive(out[0], t0, effects);  // older: duplicate
  b.receive(out[4], t0, effects);  // two lost
  CHECK(effects == Effects{said(EffectKind::join, "a", 1, "guest-1@a"),
                           said(EffectKind::chat, "a", 1, "guest-1@a", "one"), lost("a", 2),
                           said(EffectKind::chat, "a", 1, "guest-1@a", "four")});
  CHECK(b.duplicates() == 2);
  CHECK(b.lost() == 2);
}

TEST_CASE("Relay::receive counts lines lost before a heartbeat as lost, and asks for the roster") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  deliver(a, b, t0);
  b.take_outbox();
  a.chat(1, "lost", t0);
  a.take_outbox();
  Effects effects;
  a.tick(t0 + 2s, effects);
  CHECK(deliver(a, b, t0 + 2s) == Effects{lost("a", 1)});
  CHECK(sent(b, "DSC1 sync b 0000000000000001 0 "));
}

TEST_CASE("Relay::receive rejects what does not parse and what claims to come from itself") {
  Relay a = make("a");
  Effects effects;
  a.receive("DSC1 shout a 1 1 1", t0, effects);
  CHECK(a.last_error() == "unknown kind");
  CHECK(a.rejected() == 1);
  a.receive("DSC1 join a 0000000000000002 1 1 1 guest-1@a", t0, effects);
  CHECK(a.conflicts() == 1);
  CHECK(a.rejected() == 1);
  CHECK(a.who().total == 0);
  CHECK(effects.empty());
}

TEST_CASE("Relay: a late server learns the room from rosters, and the others learn its own") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  a.join(2, t0);
  CHECK(a.nick(2, "bob", t0));
  a.take_outbox();  // b was not there
  b.join(1, t0 + 1ms);
  b.take_outbox();
  b.connected(t0 + 1ms);
  CHECK(deliver(b, a, t0 + 1ms) == Effects{bulk(EffectKind::bulk_join, "b", {"guest-1@b"})});
  CHECK(deliver(a, b, t0 + 2ms) == Effects{bulk(EffectKind::bulk_join, "a", {"guest-1@a", "bob"})});
  CHECK(a.who().names == b.who().names);
  CHECK(a.who().names == std::vector<std::string>{"guest-1@a", "bob", "guest-1@b"});
  CHECK(a.who().total == 3);
  CHECK(a.who().here == 2);
  CHECK(b.who().here == 1);
}

TEST_CASE("Relay::tick sends a heartbeat every period and finds a silent node after 3.5 periods") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  a.join(2, t0);
  deliver(a, b, t0);
  Effects effects;
  CHECK(a.next_tick() == t0 + 2s);
  a.tick(t0 + 1999ms, effects);
  CHECK(a.take_outbox().empty());
  a.tick(t0 + 2s, effects);
  CHECK(sent(a, "DSC1 hb a 0000000000000001 2 "));
  CHECK(a.next_tick() == t0 + 4s);

  CHECK(b.next_tick() == t0 + 2s);  // b's own heartbeat comes first
  b.tick(t0 + 6999ms, effects);
  CHECK(effects.empty());
  CHECK(b.nodes_up() == std::vector<std::string>{"a"});
  b.tick(t0 + 7s, effects);
  CHECK(effects == Effects{bulk(EffectKind::bulk_leave, "a", {"guest-1@a", "guest-2@a"})});
  effects.clear();
  b.tick(t0 + 20s, effects);
  CHECK(effects.empty());  // one notice, not one per tick
  CHECK(b.nodes_up().empty());
  using Down = std::vector<std::pair<std::string, Relay::Clock::time_point>>;
  CHECK(b.nodes_unreachable() == Down{{"a", t0}});
  CHECK(b.who().total == 0);
  CHECK_FALSE(b.name_taken("guest-1@a"));
}

TEST_CASE("Relay: a node heard again after it was declared down is asked for its roster") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  deliver(a, b, t0);
  Effects effects;
  b.tick(t0 + 8s, effects);
  b.take_outbox();
  a.tick(t0 + 9s, effects);
  CHECK(deliver(a, b, t0 + 9s).empty());
  CHECK(sent(b, "DSC1 sync b 0000000000000001 0 "));
  effects.clear();
  a.receive("DSC1 sync b 0000000000000001 0 99999 a", t0 + 9s, effects);
  CHECK(deliver(a, b, t0 + 9s) == Effects{bulk(EffectKind::bulk_join, "a", {"guest-1@a"})});
}

TEST_CASE("Relay::receive: bye removes a node's members at once and ignores the rest of its epoch") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  a.bye("server shutting down", t0);
  CHECK(deliver(a, b, t0) ==
        Effects{said(EffectKind::join, "a", 1, "guest-1@a"),
                bulk(EffectKind::bulk_leave, "a", {"guest-1@a"}, NodeLeft::shutting_down)});
  a.join(2, t0);
  CHECK(deliver(a, b, t0).empty());
  CHECK(b.who().total == 0);
  CHECK(b.nodes_unreachable().empty());  // it said bye: not unreachable
}

TEST_CASE("Relay::receive: a new epoch is a restart; an older one is stale") {
  Relay a = make("a", 5);
  Relay b = make("b");
  a.join(1, t0);
  deliver(a, b, t0);
  Relay a2 = make("a", 6);
  a2.join(1, t0 + 1s);
  CHECK(deliver(a2, b, t0 + 1s) ==
        Effects{bulk(EffectKind::bulk_leave, "a", {"guest-1@a"}, NodeLeft::restarted),
                said(EffectKind::join, "a", 1, "guest-1@a")});
  a.chat(1, "a ghost", t0 + 1s);
  CHECK(deliver(a, b, t0 + 1s).empty());
  CHECK(b.duplicates() == 1);
  CHECK(b.who().total == 1);
  CHECK(dschat::make_relay_epoch(1000, 7) < dschat::make_relay_epoch(1001, 0));
}

TEST_CASE("Relay::nick refuses a name held anywhere, compared folded") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  CHECK(a.nick(1, "Alice", t0));
  b.join(1, t0);
  b.join(2, t0);
  CHECK(b.nick(2, "bob", t0));
  deliver(a, b, t0);
  b.take_outbox();
  CHECK_FALSE(b.nick(1, "alice", t0));
  CHECK_FALSE(b.nick(1, "ALICE", t0));
  CHECK_FALSE(b.nick(1, "Bob", t0));
  CHECK(b.nick(2, "Bob", t0));  // its own name in another case
  CHECK(b.take_outbox().size() == 1);
  CHECK(b.name_taken("alice"));
  CHECK(b.local_name(2) == "Bob");
}

TEST_CASE("Relay: two servers granting one name at once: the smaller (clock, node) keeps it") {
  Relay a = make("a", 1, 1000);
  Relay b = make("b", 1, 1000);
  a.join(1, t0);
  b.join(1, t0);
  deliver(a, b, t0);
  deliver(b, a, t0);
  a.take_outbox();
  b.take_outbox();
  CHECK(a.nick(1, "alice", t0 + 5ms));  // claim at the same clock on both: the node name decides
  CHECK(b.nick(1, "Alice", t0 + 5ms));
  const std::vector<std::string> from_a = a.take_outbox();
  const std::vector<std::string> from_b = b.take_outbox();
  Effects at_a;
  Effects at_b;
  for (const auto& payload : from_b)
    a.receive(payload, t0 + 6ms, at_a);
  for (const auto& payload : from_a)
    b.receive(payload, t0 + 6ms, at_b);
  CHECK(at_a.size() == 1);  // b's member shows as Alice until b renames it
  RelayEffect renamed = said(EffectKind::renamed, "a", 1, "Alice");
  renamed.new_name = "guest-1@b";
  REQUIRE(at_b.size() == 2);
  CHECK(at_b[1] == renamed);
  CHECK(b.local_name(1) == "guest-1@b");
  CHECK(a.local_name(1) == "alice");
  RelayEffect back = said(EffectKind::nick, "b", 1, "Alice");
  back.new_name = "guest-1@b";
  CHECK(deliver(b, a, t0 + 7ms) == Effects{back});
  CHECK(a.who().names == b.who().names);
}

TEST_CASE("Relay: an earlier claim of a server back from a partition wins over a later local one") {
  Relay a = make("a", 1, 1000);
  Relay b = make("b", 1, 1000);
  a.join(1, t0);
  b.join(1, t0);
  deliver(a, b, t0);
  deliver(b, a, t0);
  CHECK(a.nick(1, "zed", t0 + 1s));  // b does not hear it
  a.take_outbox();
  CHECK(b.nick(1, "ZED", t0 + 2s));
  b.take_outbox();
  Effects effects;
  a.tick(t0 + 2s, effects);  // a's heartbeat: b finds its copy of a's roster stale and asks again
  deliver(a, b, t0 + 2s);
  CHECK(sent(b, "DSC1 sync b 0000000000000001 2 "));
  a.receive("DSC1 sync b 0000000000000001 2 99999 a", t0 + 2s, effects);
  const Effects at_b = deliver(a, b, t0 + 2s);
  REQUIRE(at_b.size() == 2);
  CHECK(at_b[0].kind == EffectKind::nick);
  CHECK(at_b[1].kind == EffectKind::renamed);
  CHECK(b.local_name(1) == "guest-1@b");
}

TEST_CASE("Relay: a big roster goes in parts and arrives whole") {
  Relay a = make("a");
  Relay b = make("b");
  std::vector<std::string> names;
  for (std::uint64_t id = 1; id <= 400; ++id) {
    a.join(id, t0);
    const std::string name = "member-with-a-rather-long-name-" + std::to_string(id) + std::string(80, 'x');
    CHECK(a.nick(id, name, t0));
    names.push_back(name);
  }
  a.take_outbox();
  a.connected(t0);
  const std::vector<std::string> out = a.take_outbox();
  CHECK(out.size() > 2);  // parts, then sync *
  for (std::size_t i = 0; i + 1 < out.size(); ++i)
    CHECK(out[i].size() <= 33 * 1024);
  Effects effects;
  for (const auto& payload : out)
    b.receive(payload, t0, effects);
  CHECK(effects == Effects{bulk(EffectKind::bulk_join, "a", names)});
  CHECK(b.who().names == names);
}

TEST_CASE("Relay: a roster missing a part is not applied") {
  Relay a = make("a");
  Relay b = make("b");
  for (std::uint64_t id = 1; id <= 400; ++id) {
    a.join(id, t0);
    CHECK(a.nick(id, "n" + std::to_string(id) + std::string(100, 'x'), t0));
  }
  a.take_outbox();
  a.connected(t0);
  std::vector<std::string> out = a.take_outbox();
  out.erase(out.begin() + 1);
  Effects effects;
  for (const auto& payload : out)
    b.receive(payload, t0, effects);
  CHECK(effects.empty());
  CHECK(b.who().total == 0);
}

TEST_CASE("Relay: a heartbeat whose digest disagrees with the copy asks for the roster again") {
  Relay a = make("a");
  Relay b = make("b");
  a.join(1, t0);
  a.take_outbox();  // b was not there
  Effects effects;
  a.tick(t0 + 2s, effects);
  deliver(a, b, t0 + 2s);
  CHECK(sent(b, "DSC1 sync b 0000000000000001 0 "));  // first contact; its answer is lost
  a.tick(t0 + 4s, effects);
  CHECK(deliver(a, b, t0 + 4s).empty());
  CHECK(sent(b, "DSC1 sync b 0000000000000001 0 "));  // same seq, other digest
  a.tick(t0 + 6s, effects);
  a.receive("DSC1 sync b 0000000000000001 0 1 a", t0 + 6s, effects);
  CHECK(deliver(a, b, t0 + 6s) == Effects{bulk(EffectKind::bulk_join, "a", {"guest-1@a"})});
  CHECK(sent(b, "DSC1 roster b "));  // a asked b for its roster too
  a.tick(t0 + 8s, effects);
  deliver(a, b, t0 + 8s);
  CHECK(b.take_outbox().empty());  // the copy matches now: nothing more to ask
  CHECK(effects.empty());
}

TEST_CASE("Relay::receive keeps at most relay_max_nodes nodes") {
  Relay a = make("a");
  Effects effects;
  for (std::size_t i = 0; i <= dschat::relay_max_nodes; ++i)
    a.receive("DSC1 hb n" + std::to_string(i) + " 1 0 1 0 0000000000000000", t0, effects);
  CHECK(a.nodes_up().size() == dschat::relay_max_nodes);
  CHECK(a.rejected() == 1);
  CHECK(a.last_error() == "more than 64 nodes");
  a.receive("DSC1 hb n0 1 0 2 0 0000000000000000", t0, effects);  // known nodes go on
  CHECK(a.rejected() == 1);
}

TEST_CASE("Relay::receive keeps at most relay_max_members members of a node") {
  // A roster in parts of 2048 entries: relay_max_members exactly is taken, one more is not.
  const auto roster = [](std::uint64_t seq, std::size_t members) {
    const std::size_t per_part = 2048;
    const std::size_t parts = (members + per_part - 1) / per_part;
    std::vector<std::string> lines;
    for (std::size_t part = 0; part < parts; ++part) {
      std::string line = "DSC1 roster b 1 " + std::to_string(seq) + " 1 " + std::to_string(part + 1) + "/" +
                         std::to_string(parts);
      for (std::size_t id = part * per_part + 1; id <= std::min(members, (part + 1) * per_part); ++id)
        line += " " + std::to_string(id) + ":1:1:m" + std::to_string(id);
      lines.push_back(line);
    }
    return lines;
  };
  Relay a = make("a");
  Effects effects;
  for (const std::string& line : roster(1, dschat::relay_max_members + 1))
    a.receive(line, t0, effects);
  CHECK(effects.empty());
  CHECK(a.rejected() == 1);
  CHECK(a.last_error() == "more than 65536 members on node b");
  for (const std::string& line : roster(1, dschat::relay_max_members))
    a.receive(line, t0, effects);
  CHECK(a.who().total == dschat::relay_max_members);
  a.receive("DSC1 join b 1 2 1 65537 guest-65537@b", t0, effects);
  CHECK(a.rejected() == 2);
  CHECK(a.who().total == dschat::relay_max_members);
}

TEST_CASE("Relay::receive: once a node is down or gone, a smaller epoch is a restart too") {
  Relay a = make("a", 9);
  Relay b = make("b");
  a.join(1, t0);
  a.bye("server shutting down", t0);
  deliver(a, b, t0);
  Relay a2 = make("a", 3);  // its clock went back
  a2.join(1, t0 + 1s);
  CHECK(deliver(a2, b, t0 + 1s) == Effects{said(EffectKind::join, "a", 1, "guest-1@a")});

  Relay c = make("c", 9);
  c.join(1, t0);
  deliver(c, b, t0);
  Effects effects;
  b.tick(t0 + 7s, effects);  // c is silent: down (a, heard at 1 s, not yet)
  Relay c2 = make("c", 3);
  c2.join(1, t0 + 7500ms);
  CHECK(deliver(c2, b, t0 + 7500ms) == Effects{said(EffectKind::join, "c", 1, "guest-1@c")});
  CHECK(b.who().total == 2);
}

TEST_CASE("Relay: requests for a roster that arrive together share one answer sent after them") {
  // Heartbeat 2 s: the window is min(heartbeat / 8, 25 ms) = 25 ms.
  Relay a = make("a");
  a.join(1, t0);
  a.take_outbox();
  Effects effects;
  const auto ask = [&](const char* node, Relay::Clock::time_point at) {
    a.receive(std::string("DSC1 sync ") + node + " 0000000000000001 1 99999 a", at, effects);
    return count_sent(a, "DSC1 roster a ");
  };
  const auto t = t0 + 10s;
  a.tick(t, effects);  // its heartbeat: the next one is due at t + 2 s
  a.take_outbox();
  CHECK(ask("b", t) == 1);  // the first request: answered at once
  CHECK(ask("c", t + 3ms) == 0);
  CHECK(ask("d", t + 9ms) == 0);
  CHECK(a.next_tick() == t + 25ms);  // the shared answer is due at the end of the window
  a.tick(t + 24ms, effects);
  CHECK(count_sent(a, "DSC1 roster a ") == 0);
  a.tick(t + 25ms, effects);
  CHECK(count_sent(a, "DSC1 roster a ") == 1);  // one roster for c and d, published after both asked
  CHECK(a.next_tick() > t + 1s);                // nothing more owed
  CHECK(ask("e", t + 60ms) == 1);               // a request after the window: answered at once again
  CHECK(effects.empty());
}
