// The relay at scale, by deterministic simulation: N servers, each with M members, on a broker that fans
// every published envelope out to every other server after a short FIFO delay. It measures what a cluster
// costs as it grows: broker traffic per heartbeat in a quiet room, the time to converge after a partition
// heals (and the traffic that takes), and the time to find a dead server. The small case runs with the unit
// tests and checks that a heartbeat costs O(servers), never O(members); the large one is for
// docs/cluster.md:
//
//   build/tests/core_relay_scale_test --no-skip -tc='Relay at scale*'
//   DSCHAT_SCALE_SERVERS=5,10,25,50 DSCHAT_SCALE_MEMBERS=1000 build/tests/core_relay_scale_test --no-skip …

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/relay.hpp"

using dschat::Relay;
using dschat::RelayConfig;
using dschat::RelayEffect;
using namespace std::chrono_literals;

namespace {

using Time = Relay::Clock::time_point;
using Duration = Relay::Clock::duration;
constexpr auto heartbeat = 200ms;
constexpr auto step = 1ms;

/// Broker traffic: what the servers published, and what the broker delivered (each publish to every other
/// reachable server).
struct Traffic {
  std::uint64_t published = 0;
  std::uint64_t published_bytes = 0;
  std::uint64_t delivered = 0;
  std::uint64_t delivered_bytes = 0;
  std::uint64_t rosters = 0;  ///< roster envelopes published
  std::uint64_t roster_bytes_delivered = 0;
};

std::string_view kind_of(std::string_view payload) {
  // "DSC1 <kind> …"
  const auto start = payload.find(' ') + 1;
  return payload.substr(start, payload.find(' ', start) - start);
}

double ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

class Cluster {
 public:
  Cluster(std::size_t servers, std::uint64_t seed)
      : rng_(seed), last_at_(servers, std::vector<Time>(servers)) {
    for (std::size_t i = 0; i < servers; ++i)
      servers_.push_back(Server{"s" + std::to_string(i), {}, 0, 0, 0, 0, {}});
    for (std::size_t i = 0; i < servers; ++i)
      start(i);
  }

  /// Joins members_per_server members on every server, a batch per server and millisecond.
  void join_all(std::size_t members_per_server) {
    for (std::size_t joined = 0; joined < members_per_server;) {
      const std::size_t batch = std::min<std::size_t>(20, members_per_server - joined);
      for (std::size_t i = 0; i < servers_.size(); ++i) {
        for (std::size_t b = 0; b < batch; ++b)
          join(i);
      }
      joined += batch;
      run_for(step);
    }
  }

  /// Runs until every live server's view holds every live member and every other live server; returns
  /// how long that took, nullopt past limit.
  std::optional<Duration> converge(Duration limit) {
    const Time from = now_;
    while (!converged()) {
      if (now_ - from > limit) return std::nullopt;
      run_for(step);
    }
    return now_ - from;
  }

  void run_for(Duration duration) {
    const Time end = now_ + duration;
    while (now_ < end) {
      now_ += step;
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

  /// Cuts the servers into two halves that cannot reach each other (or heals the cut).
  void partition(bool cut) {
    for (std::size_t i = 0; i < servers_.size(); ++i)
      servers_[i].group = cut && i >= servers_.size() / 2 ? 1 : 0;
  }

  /// Kills server k (nothing more is sent); returns how long after its last envelope each other server
  /// found it unreachable, the slowest of them (nullopt when one did not within limit).
  std::optional<Duration> kill_and_detect(std::size_t k, Duration limit) {
    const std::string name = servers_[k].node;
    const Time last_sent = servers_[k].last_sent;
    servers_[k].relay.reset();
    const Time killed = now_;
    std::vector<bool> found(servers_.size(), false);
    found[k] = true;
    Duration slowest{};
    while (std::find(found.begin(), found.end(), false) != found.end()) {
      if (now_ - killed > limit) return std::nullopt;
      run_for(step);
      for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (found[i] || !servers_[i].relay) continue;
        for (const auto& [node, heard] : servers_[i].relay->nodes_unreachable()) {
          if (node != name) continue;
          found[i] = true;
          slowest = std::max(slowest, now_ - last_sent);
        }
      }
    }
    return slowest;
  }

  /// Starts server k again (a new epoch) with members members.
  void restart(std::size_t k, std::size_t members) {
    start(k);
    for (std::size_t m = 0; m < members; ++m)
      join(k);
    flush(k);
  }

  /// Checks the views against the members with who() (slow: once, at the end).
  void check_views() const {
    const auto [total_members, live_servers] = live_members();
    const std::size_t total = total_members;  // plain variables: clang 14 cannot capture bindings
    const std::size_t live = live_servers;
    for (const Server& server : servers_) {
      if (!server.relay) continue;
      CAPTURE(server.node);
      CHECK(server.relay->who().total == total);
      CHECK(server.relay->nodes_up().size() == live - 1);
      CHECK(server.relay->duplicates() == 0);
      CHECK(server.relay->lost() == 0);
    }
  }

  Traffic& traffic() { return traffic_; }
  std::size_t servers() const { return servers_.size(); }

 private:
  struct Server {
    std::string node;
    std::optional<Relay> relay;
    std::size_t members = 0;
    std::uint64_t next_id = 1;
    std::uint64_t starts = 0;
    std::size_t view = 0;  // remote members this server shows, counted from its effects
    Time last_sent{};      // when it last published anything
    int group = 0;
  };

  struct Message {
    Time at;
    std::uint64_t order;
    std::size_t to;
    std::shared_ptr<const std::string> payload;
    bool operator>(const Message& other) const {
      return std::tie(at, order) > std::tie(other.at, other.order);
    }
  };

  void start(std::size_t i) {
    Server& server = servers_[i];
    const auto wall_ms = static_cast<std::uint64_t>(1'700'000'000'000 + (now_ - Time{}) / 1ms);
    ++server.starts;
    const std::uint64_t epoch = dschat::make_relay_epoch(wall_ms, static_cast<std::uint16_t>(server.starts));
    server.relay.emplace(RelayConfig{server.node, epoch, wall_ms, heartbeat}, now_);
    server.members = 0;
    server.next_id = 1;
    server.view = 0;
    server.relay->connected(now_);
    flush(i);
  }

  void join(std::size_t i) {
    Server& server = servers_[i];
    server.relay->join(server.next_id++, now_);
    ++server.members;
    flush(i);
  }

  /// Members of the live servers, and how many servers are live.
  std::pair<std::size_t, std::size_t> live_members() const {
    std::size_t total = 0;
    std::size_t live = 0;
    for (const Server& server : servers_) {
      if (!server.relay) continue;
      total += server.members;
      ++live;
    }
    return {total, live};
  }

  bool converged() const {
    const auto [total_members, live_servers] = live_members();
    const std::size_t total = total_members;  // plain variables: clang 14 cannot capture bindings
    const std::size_t live = live_servers;
    return std::all_of(servers_.begin(), servers_.end(), [&](const Server& server) {
      return !server.relay ||
             (server.view + server.members == total && server.relay->nodes_up().size() == live - 1);
    });
  }

  /// Publishes i's outbox: the broker delivers each envelope to every other server it can reach, 1–4 ms
  /// later, in order per pair.
  void flush(std::size_t i) {
    if (!servers_[i].relay) return;
    for (std::string& text : servers_[i].relay->take_outbox()) {
      const auto payload = std::make_shared<const std::string>(std::move(text));
      const std::string_view kind = kind_of(*payload);
      const bool roster = kind == "roster";
      servers_[i].last_sent = now_;
      ++traffic_.published;
      traffic_.published_bytes += payload->size();
      traffic_.rosters += roster ? 1 : 0;
      for (std::size_t to = 0; to < servers_.size(); ++to) {
        if (to == i || servers_[to].group != servers_[i].group) continue;
        const Time at = std::max(last_at_[i][to], now_ + 1ms + std::chrono::milliseconds(rng_() % 4));
        last_at_[i][to] = at;
        network_.push(Message{at, order_++, to, payload});
        ++traffic_.delivered;
        traffic_.delivered_bytes += payload->size();
        if (roster) traffic_.roster_bytes_delivered += payload->size();
      }
    }
  }

  void deliver_due() {
    std::vector<bool> touched(servers_.size(), false);
    while (!network_.empty() && network_.top().at <= now_) {
      const Message message = network_.top();
      network_.pop();
      Server& server = servers_[message.to];
      if (!server.relay) continue;
      std::vector<RelayEffect> effects;
      server.relay->receive(*message.payload, now_, effects);
      absorb(message.to, effects);
      touched[message.to] = true;
    }
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      if (touched[i]) flush(i);
    }
  }

  void absorb(std::size_t i, const std::vector<RelayEffect>& effects) {
    std::size_t& view = servers_[i].view;
    for (const RelayEffect& effect : effects) {
      switch (effect.kind) {
        case RelayEffect::Kind::join:
          ++view;
          break;
        case RelayEffect::Kind::leave:
          --view;
          break;
        case RelayEffect::Kind::bulk_join:
          view += effect.count;
          break;
        case RelayEffect::Kind::bulk_leave:
          view -= effect.count;
          break;
        default:
          break;
      }
    }
  }

  std::mt19937_64 rng_;
  Time now_{};
  std::vector<Server> servers_;
  std::vector<std::vector<Time>> last_at_;
  std::priority_queue<Message, std::vector<Message>, std::greater<>> network_;
  std::uint64_t order_ = 0;
  Traffic traffic_;
};

/// What one cluster size measured.
struct ScaleFigures {
  std::size_t servers = 0;
  std::size_t members = 0;  ///< per server
  Traffic per_heartbeat;    ///< a quiet room, averaged over 10 heartbeats
  std::optional<Duration> convergence;
  Traffic heal;  ///< from the heal to convergence
  std::vector<Duration> detections;
};

ScaleFigures measure(std::size_t servers, std::size_t members, std::size_t kills) {
  ScaleFigures figures{servers, members, {}, {}, {}, {}};
  Cluster cluster(servers, 42 + servers);
  cluster.run_for(2 * heartbeat);
  cluster.join_all(members);
  REQUIRE(cluster.converge(60s));
  cluster.run_for(2 * heartbeat);

  // A quiet room: heartbeats only.
  cluster.traffic() = Traffic{};
  constexpr int beats = 10;
  cluster.run_for(beats * heartbeat);
  const Traffic& quiet = cluster.traffic();
  figures.per_heartbeat = Traffic{quiet.published / beats, quiet.published_bytes / beats,
                                  quiet.delivered / beats, quiet.delivered_bytes / beats,
                                  quiet.rosters / beats,   quiet.roster_bytes_delivered / beats};

  // Two halves apart for 5 heartbeats (each finds the other half down), then healed.
  cluster.partition(true);
  cluster.run_for(5 * heartbeat);
  cluster.partition(false);
  cluster.traffic() = Traffic{};
  figures.convergence = cluster.converge(60s);
  figures.heal = cluster.traffic();
  REQUIRE(figures.convergence);
  cluster.run_for(2 * heartbeat);

  // Kill a server at a different moment of the heartbeat each time; restart it once found.
  for (std::size_t k = 0; k < kills; ++k) {
    cluster.run_for(heartbeat * static_cast<int>(k) / static_cast<int>(kills + 1) + 3ms);
    const std::size_t victim = (k * 7 + 1) % servers;
    const auto found = cluster.kill_and_detect(victim, 20 * heartbeat);
    REQUIRE(found);
    figures.detections.push_back(*found);
    cluster.restart(victim, members);
    REQUIRE(cluster.converge(60s));
  }
  cluster.check_views();
  return figures;
}

std::vector<std::size_t> numbers_from_env(const char* name, std::vector<std::size_t> fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  std::vector<std::size_t> out;
  for (std::string_view rest = text; !rest.empty();) {
    const auto comma = rest.find(',');
    out.push_back(std::stoul(std::string(rest.substr(0, comma))));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "Relay at small scale: a heartbeat costs O(servers), never O(members); the dead are found in time") {
  for (const std::size_t servers : {3, 6}) {
    CAPTURE(servers);
    const ScaleFigures empty = measure(servers, 0, 0);
    const ScaleFigures full = measure(servers, 100, 2);
    // One heartbeat per server and period, to every other server; no roster in a quiet room.
    CHECK(full.per_heartbeat.published == servers);
    CHECK(full.per_heartbeat.delivered == servers * (servers - 1));
    CHECK(full.per_heartbeat.rosters == 0);
    // A heartbeat is a few dozen bytes; 100 members per server change it by the digits of its count and
    // seq only.
    CHECK(full.per_heartbeat.published_bytes <= 100 * servers);
    CHECK(full.per_heartbeat.published_bytes <= empty.per_heartbeat.published_bytes + 8 * servers);
    // Found within 3.5 heartbeats of the last envelope it sent, plus the broker's delay (< 5 ms) and a step.
    for (const Duration detection : full.detections) {
      CHECK(detection >= heartbeat * 7 / 2);
      CHECK(detection <= heartbeat * 7 / 2 + 6ms);
    }
    CHECK(*full.convergence < 2 * heartbeat);
    // A heal: the servers of each half ask every server of the other for its roster at about the same
    // moment; requests that arrive together share one answer, so each server publishes one roster (here
    // of one part), two at most, however many ask (was one per request: servers² / 2 in all).
    CHECK(full.heal.rosters >= servers);
    CHECK(full.heal.rosters <= 2 * servers);
  }
}

TEST_CASE("Relay at scale: traffic per heartbeat, convergence after a partition, detection" *
          doctest::skip()) {
  const auto sizes = numbers_from_env("DSCHAT_SCALE_SERVERS", {5, 10, 25, 50});
  const auto members = numbers_from_env("DSCHAT_SCALE_MEMBERS", {1000}).front();
  const auto kills = numbers_from_env("DSCHAT_SCALE_KILLS", {5}).front();
  std::printf("heartbeat %lld ms, %zu members per server, broker delay 1-4 ms, %zu kills per size\n",
              static_cast<long long>(heartbeat.count()), members, kills);
  std::printf(
      "| servers | members | per heartbeat: published msgs / bytes | delivered msgs / bytes | rosters | "
      "convergence after heal | heal traffic: msgs / MB (rosters) | detection after its last envelope: min / "
      "max |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const std::size_t servers : sizes) {
    const ScaleFigures f = measure(servers, members, kills);
    const auto [low, high] = std::minmax_element(f.detections.begin(), f.detections.end());
    std::printf(
        "| %zu | %zu | %llu / %llu | %llu / %llu | %llu | %.0f ms = %.2f hb | %llu / %.1f (%llu) | "
        "%.0f / %.0f ms = %.2f / %.2f hb |\n",
        servers, servers * members, static_cast<unsigned long long>(f.per_heartbeat.published),
        static_cast<unsigned long long>(f.per_heartbeat.published_bytes),
        static_cast<unsigned long long>(f.per_heartbeat.delivered),
        static_cast<unsigned long long>(f.per_heartbeat.delivered_bytes),
        static_cast<unsigned long long>(f.per_heartbeat.rosters), ms(*f.convergence),
        ms(*f.convergence) / ms(heartbeat), static_cast<unsigned long long>(f.heal.delivered),
        static_cast<double>(f.heal.delivered_bytes) / 1e6, static_cast<unsigned long long>(f.heal.rosters),
        ms(*low), ms(*high), ms(*low) / ms(heartbeat), ms(*high) / ms(heartbeat));
    std::fflush(stdout);
  }
}
