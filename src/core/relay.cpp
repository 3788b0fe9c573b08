#include "core/relay.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/nick.hpp"

namespace dschat {

namespace {

using Kind = Envelope::Kind;

/// A roster envelope stays well under NATS's default max_payload.
constexpr std::size_t roster_chunk = 32 * 1024;

}  // namespace

std::uint64_t make_relay_epoch(std::uint64_t wall_ms, std::uint16_t random) noexcept {
  return (wall_ms << 16) | random;
}

Relay::Relay(RelayConfig config, Clock::time_point now)
    : node_(std::move(config.node)),
      epoch_(config.epoch),
      wall_ms_(config.wall_ms),
      start_(now),
      heartbeat_(config.heartbeat),
      next_heartbeat_(now + config.heartbeat),
      roster_coalesce_(std::min<Clock::duration>(config.heartbeat / 8, std::chrono::milliseconds(25))) {}

std::string Relay::guest_name(std::uint64_t id) const {
  return dschat::guest_name(id) + "@" + node_;
}

void Relay::join(std::uint64_t id, Clock::time_point now) {
  Envelope envelope;
  envelope.kind = Kind::join;
  envelope.id = id;
  envelope.name = guest_name(id);
  const std::uint64_t clock = next_clock(now);
  self_.members[id] = Member{clock, clock, envelope.name, fold_nick(envelope.name)};
  envelope.clock = clock;
  send(std::move(envelope), now);
}

void Relay::chat(std::uint64_t id, std::string_view text, Clock::time_point now) {
  send_text(Kind::chat, id, text, now);
}

void Relay::me(std::uint64_t id, std::string_view text, Clock::time_point now) {
  send_text(Kind::me, id, text, now);
}

void Relay::send_text(Kind kind, std::uint64_t id, std::string_view text, Clock::time_point now) {
  const Member* member = local(id);
  if (member == nullptr) return;
  Envelope envelope;
  envelope.kind = kind;
  envelope.id = id;
  envelope.name = member->name;
  envelope.text = std::string(text);
  send(std::move(envelope), now);
}

bool Relay::nick(std::uint64_t id, std::string_view name, Clock::time_point now) {
  Member* member = local(id);
  if (member == nullptr) return false;
  std::string key = fold_nick(name);
  for (const auto& [other, held] : self_.members) {
    if (other != id && held.key == key) return false;
  }
  for (const auto& [node_name, node] : nodes_) {
    for (const auto& [other, held] : node.members) {
      if (node.up && held.key == key) return false;
    }
  }
  Envelope envelope;
  envelope.kind = Kind::nick;
  envelope.id = id;
  envelope.name = member->name;
  envelope.new_name = std::string(name);
  envelope.clock = next_clock(now);
  member->name = envelope.new_name;
  member->key = std::move(key);
  member->claimed = envelope.clock;
  send(std::move(envelope), now);
  return true;
}

void Relay::leave(std::uint64_t id, std::string_view reason, Clock::time_point now) {
  const auto found = self_.members.find(id);
  if (found == self_.members.end()) return;
  Envelope envelope;
  envelope.kind = Kind::leave;
  envelope.id = id;
  envelope.name = found->second.name;
  envelope.text = std::string(reason);
  self_.members.erase(found);
  send(std::move(envelope), now);
}

void Relay::connected(Clock::time_point now) {
  send_roster(now);
  Envelope envelope;
  envelope.kind = Kind::sync;
  envelope.text = "*";
  send(std::move(envelope), now);
}

void Relay::bye(std::string_view reason, Clock::time_point now) {
  Envelope envelope;
  envelope.kind = Kind::bye;
  envelope.text = std::string(reason);
  send(std::move(envelope), now);
}

void Relay::tick(Clock::time_point now, Effects& effects) {
  // The owed roster before the heartbeat, whose digest describes it.
  if (roster_due_ && now >= *roster_due_) send_roster(now);
  if (now >= next_heartbeat_) {
    Envelope envelope;
    envelope.kind = Kind::hb;
    envelope.count = self_.members.size();
    envelope.digest = digest(self_.members);
    send(std::move(envelope), now);
    next_heartbeat_ = now + heartbeat_;
  }
  for (auto& [name, node] : nodes_) {
    if (node.up && now - node.heard >= heartbeat_ * 7 / 2) {
      drop_members(name, node, NodeLeft::unreachable, effects);
      node.up = false;
    }
  }
}

Relay::Clock::time_point Relay::next_tick() const {
  Clock::time_point next = next_heartbeat_;
  if (roster_due_) next = std::min(next, *roster_due_);
  for (const auto& [name, node] : nodes_) {
    if (node.up) next = std::min(next, node.heard + heartbeat_ * 7 / 2);
  }
  return next;
}

std::vector<std::string> Relay::take_outbox() {
  return std::exchange(outbox_, {});
}

bool Relay::name_taken(std::string_view name) const {
  return !holder(name).empty();
}

std::string Relay::holder(std::string_view name) const {
  const std::string key = fold_nick(name);
  const auto held = [&](const Node& node) -> const Member* {
    const auto found = std::find_if(node.members.begin(), node.members.end(),
                                    [&](const auto& member) { return member.second.key == key; });
    return found == node.members.end() ? nullptr : &found->second;
  };
  if (const Member* member = held(self_)) return member->name;
  for (const auto& [node_name, node] : nodes_) {
    if (!node.up) continue;
    if (const Member* member = held(node)) return member->name;
  }
  return {};
}

std::string Relay::local_name(std::uint64_t id) const {
  const auto found = self_.members.find(id);
  return found == self_.members.end() ? std::string{} : found->second.name;
}

RelayWho Relay::who() const {
  std::vector<std::tuple<std::uint64_t, std::string_view, std::uint64_t, std::string_view>> order;
  const auto add = [&](std::string_view node_name, const Node& node) {
    for (const auto& [id, member] : node.members)
      order.emplace_back(member.joined, node_name, id, member.name);
  };
  add(node_, self_);
  for (const auto& [name, node] : nodes_) {
    if (node.up) add(name, node);
  }
  std::sort(order.begin(), order.end());
  RelayWho who;
  who.total = order.size();
  who.here = self_.members.size();
  for (const auto& entry : order)
    who.names.emplace_back(std::get<3>(entry));
  return who;
}

std::vector<std::string> Relay::nodes_up() const {
  std::vector<std::string> up;
  for (const auto& [name, node] : nodes_) {
    if (node.up) up.push_back(name);
  }
  return up;
}

std::vector<std::pair<std::string, Relay::Clock::time_point>> Relay::nodes_unreachable() const {
  std::vector<std::pair<std::string, Clock::time_point>> down;
  for (const auto& [name, node] : nodes_) {
    if (!node.up && !node.gone) down.emplace_back(name, node.heard);
  }
  return down;
}

std::uint64_t Relay::next_clock(Clock::time_point now) {
  const auto since_start = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count();
  const std::uint64_t physical =
      wall_ms_ + static_cast<std::uint64_t>(std::max<std::int64_t>(0, since_start));
  clock_ = std::max(clock_ + 1, physical);
  return clock_;
}

void Relay::send(Envelope envelope, Clock::time_point now) {
  envelope.node = node_;
  envelope.epoch = epoch_;
  if (envelope.clock == 0) envelope.clock = next_clock(now);
  if (counts_seq(envelope.kind)) ++self_.seq;
  envelope.seq = self_.seq;
  outbox_.push_back(encode_envelope(envelope));
}

void Relay::send_roster(Clock::time_point now) {
  std::vector<std::vector<RosterEntry>> parts(1);
  std::size_t size = 0;
  for (const auto& [id, member] : self_.members) {
    const std::size_t entry_size = member.name.size() + 64;  // three numbers, colons, a space
    if (size + entry_size > roster_chunk && !parts.back().empty()) {
      parts.emplace_back();
      size = 0;
    }
    parts.back().push_back(RosterEntry{id, member.joined, member.claimed, member.name});
    size += entry_size;
  }
  roster_sent_ = now;
  roster_due_.reset();  // this roster answers every request so far
  for (std::size_t i = 0; i < parts.size(); ++i) {
    Envelope envelope;
    envelope.kind = Kind::roster;
    envelope.part = static_cast<std::uint32_t>(i + 1);
    envelope.parts = static_cast<std::uint32_t>(parts.size());
    envelope.entries = std::move(parts[i]);
    send(std::move(envelope), now);
  }
}

void Relay::answer_sync(Clock::time_point now) {
  // After a partition heals, every server of the other half asks for this roster within a few ms of the
  // others (each hears this node's heartbeat at about the same time). Every roster goes to every server,
  // so one answers them all: the first request is answered at once, and those arriving within
  // roster_coalesce_ after it share one more roster at the end of that window (sent after they were
  // asked, so none of them can have missed it). Without this a heal of n servers costs n²/2 rosters.
  if (roster_due_) return;
  if (!roster_sent_ || now - *roster_sent_ >= roster_coalesce_) {
    send_roster(now);
  } else {
    roster_due_ = *roster_sent_ + roster_coalesce_;
  }
}

void Relay::ask_sync(const std::string& name, Node& node, Clock::time_point now) {
  // At most one request per node and heartbeat: the next heartbeat's digest says if it is still needed.
  if (node.asked && now - node.sync_asked < heartbeat_) return;
  node.asked = true;
  node.sync_asked = now;
  Envelope envelope;
  envelope.kind = Kind::sync;
  envelope.text = name;
  send(std::move(envelope), now);
}

Relay::Member* Relay::local(std::uint64_t id) {
  const auto found = self_.members.find(id);
  return found == self_.members.end() ? nullptr : &found->second;
}

std::uint64_t Relay::digest(const std::map<std::uint64_t, Member>& members) {
  // FNV-1a over the roster as its entries are written: both ends compute it from the same fields.
  std::uint64_t hash = 14695981039346656037ULL;
  const auto mix = [&](std::string_view bytes) {
    for (const char c : bytes) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
  };
  for (const auto& [id, member] : members) {
    mix(std::to_string(id) + ":" + std::to_string(member.joined) + ":" + std::to_string(member.claimed) +
        ":" + member.name + "\n");
  }
  return hash;
}

}  // namespace dschat
