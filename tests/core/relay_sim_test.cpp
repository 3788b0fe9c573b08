// A deterministic simulation of a cluster: several Relay instances on a seeded random network that drops,
// duplicates, delays and partitions envelopes (each link stays FIFO, as NATS keeps one publisher's order),
// while members join, leave, chat and take names (often the same ones, to force collisions) and servers
// crash, shut down and restart. After the network heals and a few heartbeats pass, every live server must
// hold the same room: names unique, every member of a live server listed, none of a dead one.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/nick.hpp"
#include "core/relay.hpp"

using dschat::Relay;
using dschat::RelayConfig;
using dschat::RelayEffect;
using namespace std::chrono_literals;

namespace {

using Time = Relay::Clock::time_point;
constexpr auto heartbeat = 200ms;
constexpr auto step = 10ms;

/// What happened over a run, to show the run exercised what it claims to.
struct Tally {
  std::size_t renamed = 0;
  std::size_t unreachable = 0;
  std::size_t shut_down = 0;
  std::size_t restarted = 0;
  std::size_t lost = 0;
  std::size_t delivered = 0;
};

struct Server {
  std::string node;
  std::optional<Relay> relay;
  std::set<std::uint64_t> members;  // local ids
  std::uint64_t next_id = 1;
  std::uint64_t starts = 0;
  int group = 0;  // partition group
};

struct Message {
  Time at;
  std::uint64_t order;  // ties at the same time keep sending order
  std::size_t to;
  std::string payload;
};

class Simulation {
 public:
  Simulation(std::uint64_t seed, std::size_t servers) : rng_(seed) {
    last_at_.assign(servers, std::vector<Time>(servers, now_));
    for (std::size_t i = 0; i < servers; ++i) {
      servers_.push_back(Server{std::string("n") + std::to_string(i), {}, {}, 1, 0, 0});
      start(i);
    }
  }

  /// Runs for duration with random events and a faulty network when chaos is on, else a perfect one.
  void run(std::chrono::milliseconds duration, bool chaos) {
    chaos_ = chaos;
    if (!chaos) {
      for (Server& server : servers_)
        server.group = 0;
    }
    const Time end = now_ + duration;
    while (now_ < end) {
      now_ += step;
      if (chaos) act();
      deliver_due();
      for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (!servers_[i].relay) continue;
        std::vector<RelayEffect> effects;
        servers_[i].relay->tick(now_, effects);
        absorb(i, effects);
        flush(i);
      }
    }
  }

  /// Checks the invariants of a quiet cluster.
  void check_converged() const {
    std::vector<std::string> expected;
    std::size_t live = 0;
    for (const Server& server : servers_) {
      if (!server.relay) continue;
      ++live;
      for (const std::uint64_t id : server.members) {
        const std::string name = server.relay->local_name(id);
        CHECK_FALSE(name.empty());
        expected.push_back(name);
      }
    }
    std::sort(expected.begin(), expected.end());
    for (const Server& server : servers_) {
      if (!server.relay) continue;
      CAPTURE(server.node);
      const dschat::RelayWho who = server.relay->who();
      CHECK(who.here == server.members.size());
      CHECK(who.total == expected.size());
      CHECK(server.relay->nodes_up().size() == live - 1);
      std::vector<std::string> sorted = who.names;
      std::sort(sorted.begin(), sorted.end());
      CHECK(sorted == expected);  // every member of a live server, none of a dead one
      std::set<std::string> keys;
      for (const std::string& name : who.names)
        keys.insert(dschat::fold_nick(name));
      CHECK(keys.size() == who.names.size());  // names unique
    }
    // The same order everywhere, too.
    std::optional<std::vector<std::string>> order;
    for (const Server& server : servers_) {
      if (!server.relay) continue;
      if (!order) order = server.relay->who().names;
      CHECK(server.relay->who().names == *order);
    }
  }

  const Tally& tally() const { return tally_; }

 private:
  std::uint64_t roll(std::uint64_t n) { return rng_() % n; }
  bool chance(std::uint64_t per_mille) { return roll(1000) < per_mille; }

  void start(std::size_t i) {
    Server& server = servers_[i];
    const auto wall_ms = static_cast<std::uint64_t>(1'700'000'000'000 + (now_ - Time{}) / 1ms);
    ++server.starts;
    // Larger on every start, as make_relay_epoch makes it from the wall clock; but one start in four
    // finds the clock set an hour back, and so a smaller epoch.
    const std::uint64_t epoch_ms = chance(250) ? wall_ms - 3'600'000 : wall_ms;
    const std::uint64_t epoch = dschat::make_relay_epoch(epoch_ms, static_cast<std::uint16_t>(server.starts));
    // Clocks of servers disagree by up to 50 ms.
    server.relay.emplace(RelayConfig{server.node, epoch, wall_ms + roll(50), heartbeat}, now_);
    server.members.clear();
    server.next_id = 1;
    server.relay->connected(now_);
    flush(i);
  }

  void act() {
    const std::size_t i = roll(servers_.size());
    Server& server = servers_[i];
    if (!server.relay) {
      if (chance(20)) start(i);
      return;
    }
    Relay& relay = *server.relay;
    static const char* const names[] = {"alice", "Alice", "bob", "carol", "ALICE", "dave", "BOB", "eve"};
    const auto member = [&]() -> std::optional<std::uint64_t> {
      if (server.members.empty()) return std::nullopt;
      return *std::next(server.members.begin(), static_cast<long>(roll(server.members.size())));
    };
    const std::uint64_t what = roll(1000);
    if (what < 150) {
      relay.join(server.next_id, now_);
      server.members.insert(server.next_id++);
    } else if (what < 250) {
      if (const auto id = member()) {
        relay.leave(*id, "quit", now_);
        server.members.erase(*id);
      }
    } else if (what < 450) {
      if (const auto id = member()) relay.nick(*id, names[roll(std::size(names))], now_);
    } else if (what < 650) {
      if (const auto id = member()) relay.chat(*id, "hello", now_);
    } else if (what < 654) {
      server.relay.reset();  // crash: nothing more is sent
      return;
    } else if (what < 656) {
      relay.bye("server shutting down", now_);
      flush(i);
      server.relay.reset();
      return;
    } else if (what < 670) {
      server.group = static_cast<int>(roll(2));  // partition this server into group 0 or 1
    }
    flush(i);
  }

  /// Sends i's outbox to every other server over the network.
  void flush(std::size_t i) {
    if (!servers_[i].relay) return;
    for (std::string& payload : servers_[i].relay->take_outbox()) {
      for (std::size_t to = 0; to < servers_.size(); ++to) {
        if (to == i) continue;
        if (chaos_ && (servers_[to].group != servers_[i].group || chance(50))) continue;  // partition, drop
        const int copies = chaos_ && chance(30) ? 2 : 1;
        for (int c = 0; c < copies; ++c) {
          const Time at =
              std::max(last_at_[i][to], now_ + std::chrono::milliseconds(1 + roll(chaos_ ? 80 : 20)));
          last_at_[i][to] = at;  // FIFO per link
          network_.push_back(Message{at, order_++, to, payload});
        }
      }
    }
  }

  void deliver_due() {
    std::sort(network_.begin(), network_.end(), [](const Message& a, const Message& b) {
      return std::tie(a.at, a.order) < std::tie(b.at, b.order);
    });
    std::size_t done = 0;
    for (; done < network_.size() && network_[done].at <= now_; ++done) {
      const Message& message = network_[done];
      Server& server = servers_[message.to];
      if (!server.relay) continue;
      std::vector<RelayEffect> effects;
      server.relay->receive(message.payload, now_, effects);
      ++tally_.delivered;
      absorb(message.to, effects);
    }
    network_.erase(network_.begin(), network_.begin() + static_cast<long>(done));
    for (std::size_t i = 0; i < servers_.size(); ++i)
      flush(i);
  }

  void absorb(std::size_t i, const std::vector<RelayEffect>& effects) {
    for (const RelayEffect& effect : effects) {
      switch (effect.kind) {
        case RelayEffect::Kind::renamed:
          ++tally_.renamed;
          CHECK(servers_[i].members.contains(effect.id));
          CHECK(effect.new_name == servers_[i].relay->guest_name(effect.id));
          break;
        case RelayEffect::Kind::bulk_leave:
          CHECK(effect.count == effect.names.size());
          CHECK(effect.count > 0);
          if (effect.why == dschat::NodeLeft::unreachable) ++tally_.unreachable;
          if (effect.why == dschat::NodeLeft::shutting_down) ++tally_.shut_down;
          if (effect.why == dschat::NodeLeft::restarted) ++tally_.restarted;
          break;
        case RelayEffect::Kind::lost:
          CHECK(effect.count > 0);
          tally_.lost += effect.count;
          break;
        default:
          CHECK(effect.node != servers_[i].node);
          break;
      }
    }
  }

  std::mt19937_64 rng_;
  Time now_{};
  bool chaos_ = false;
  std::vector<Server> servers_;
  std::vector<std::vector<Time>> last_at_;
  std::vector<Message> network_;
  std::uint64_t order_ = 0;
  Tally tally_;
};

}  // namespace

TEST_CASE("Relay simulation: after chaos and a quiet spell, every live server holds the same room") {
  Tally total;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    const std::size_t servers = 3 + seed % 3;
    Simulation sim(seed, servers);
    sim.run(20s, true);
    sim.run(12 * heartbeat, false);  // healed: no loss; 3.5 heartbeats find the dead, digests repair the rest
    sim.check_converged();
    total.renamed += sim.tally().renamed;
    total.unreachable += sim.tally().unreachable;
    total.shut_down += sim.tally().shut_down;
    total.restarted += sim.tally().restarted;
    total.lost += sim.tally().lost;
  }
  // The runs met what they are meant to survive.
  CHECK(total.renamed > 0);
  CHECK(total.unreachable > 0);
  CHECK(total.shut_down > 0);
  CHECK(total.restarted > 0);
  CHECK(total.lost > 0);
}
