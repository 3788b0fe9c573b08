// Relay, the receiving side (relay.hpp): what arrives from other nodes, and what the room must show for it.

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/nick.hpp"
#include "core/relay.hpp"  // the class this file implements in part

namespace dschat {

namespace {

using Kind = Envelope::Kind;

RelayEffect effect(RelayEffect::Kind kind, std::string node) {
  RelayEffect out;
  out.kind = kind;
  out.node = std::move(node);
  return out;
}

}  // namespace

void Relay::receive(std::string_view payload, Clock::time_point now, Effects& effects) {
  auto envelope = parse_envelope(payload, &last_error_);
  if (!envelope) {
    ++rejected_;
    return;
  }
  if (envelope->node == node_) {  // no echo: only a second server with our node name sends this
    ++conflicts_;
    return;
  }
  clock_ = std::max(clock_, envelope->clock);
  Node* node = origin(*envelope, now, effects);
  if (node == nullptr || !check_seq(*envelope, *node, now, effects)) return;
  apply(*envelope, *node, now, effects);
}

Relay::Node* Relay::origin(const Envelope& envelope, Clock::time_point now, Effects& effects) {
  auto found = nodes_.find(envelope.node);
  const bool first = found == nodes_.end();
  if (first && nodes_.size() >= relay_max_nodes) {
    ++rejected_;
    last_error_ = "more than " + std::to_string(relay_max_nodes) + " nodes";
    return nullptr;
  }
  if (first) found = nodes_.emplace(envelope.node, Node{}).first;
  Node& node = found->second;
  // A smaller epoch is a late envelope of an earlier start while the node is up; once it is down or gone,
  // any other epoch is a new start (its wall clock may have gone back).
  const bool stale = node.up && !node.gone && envelope.epoch < node.epoch;
  if (!first && stale) {
    ++duplicates_;
    return nullptr;
  }
  if (first || envelope.epoch != node.epoch) {
    if (!first) drop_members(envelope.node, node, NodeLeft::restarted, effects);
    node = Node{};
    node.epoch = envelope.epoch;
    // The first envelope heard of an epoch is the baseline: nothing before it counts as lost.
    node.seq = counts_seq(envelope.kind) && envelope.seq > 0 ? envelope.seq - 1 : envelope.seq;
    node.heard = now;
    if (envelope.kind != Kind::roster && envelope.kind != Kind::bye) ask_sync(envelope.node, node, now);
  }
  if (node.gone) {
    ++duplicates_;
    return nullptr;
  }
  node.heard = now;
  if (!node.up) {  // back after a silence: its members were dropped, ask for them
    node.up = true;
    if (envelope.kind != Kind::roster) ask_sync(envelope.node, node, now);
  }
  return &node;
}

bool Relay::check_seq(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects) {
  const bool counted = counts_seq(envelope.kind);
  if (counted ? envelope.seq <= node.seq : envelope.seq < node.seq) {
    ++duplicates_;
    return false;
  }
  const std::uint64_t expected = counted ? node.seq + 1 : node.seq;
  if (envelope.seq > expected) {
    RelayEffect lost = effect(RelayEffect::Kind::lost, envelope.node);
    lost.count = envelope.seq - expected;
    lost_ += lost.count;
    effects.push_back(std::move(lost));
    if (envelope.kind != Kind::roster) ask_sync(envelope.node, node, now);
  }
  node.seq = envelope.seq;
  return true;
}

void Relay::apply(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects) {
  switch (envelope.kind) {
    case Kind::chat:
    case Kind::me:
    case Kind::join:
    case Kind::nick:
    case Kind::leave:
      return apply_member(envelope, node, now, effects);
    case Kind::hb:
      if (envelope.digest != digest(node.members)) ask_sync(envelope.node, node, now);
      return;
    case Kind::roster:
      return apply_roster_part(envelope, node, now, effects);
    case Kind::sync:
      if (envelope.text == "*" || envelope.text == node_) answer_sync(now);
      return;
    case Kind::bye:
      drop_members(envelope.node, node, NodeLeft::shutting_down, effects);
      node.up = false;
      node.gone = true;
      return;
  }
}

void Relay::apply_member(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects) {
  const auto found = node.members.find(envelope.id);
  const bool known = found != node.members.end();
  RelayEffect out = effect(RelayEffect::Kind::chat, envelope.node);
  out.id = envelope.id;
  out.name = envelope.name;
  out.text = envelope.text;
  switch (envelope.kind) {
    case Kind::me:
      out.kind = RelayEffect::Kind::me;
      [[fallthrough]];
    case Kind::chat:
      if (!known) ask_sync(envelope.node, node, now);  // its join was lost
      break;
    case Kind::join:
      if (!known && node.members.size() >= relay_max_members) {
        ++rejected_;
        last_error_ = "more than " + std::to_string(relay_max_members) + " members on node " + envelope.node;
        return;
      }
      out.kind = RelayEffect::Kind::join;
      node.members[envelope.id] =
          Member{envelope.clock, envelope.clock, envelope.name, fold_nick(envelope.name)};
      break;
    case Kind::nick:
      if (!known) {
        ask_sync(envelope.node, node, now);
        return;
      }
      out.kind = RelayEffect::Kind::nick;
      out.name = found->second.name;
      out.new_name = envelope.new_name;
      found->second.name = envelope.new_name;
      found->second.key = fold_nick(envelope.new_name);
      found->second.claimed = envelope.clock;
      break;
    default:               // leave
      if (!known) return;  // nobody here saw it join
      out.kind = RelayEffect::Kind::leave;
      out.name = found->second.name;
      node.members.erase(found);
      break;
  }
  effects.push_back(std::move(out));
  if (envelope.kind == Kind::nick) resolve_collisions(now, effects);
}

void Relay::apply_roster_part(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects) {
  if (envelope.part == 1) {
    node.roster.clear();
    node.roster_seq = envelope.seq;
    node.roster_next = 1;
  }
  if (node.roster_next != envelope.part || node.roster_seq != envelope.seq) {
    node.roster_next = 0;  // a part went missing: wait for a whole roster
    node.roster.clear();
    ask_sync(envelope.node, node, now);
    return;
  }
  if (node.roster.size() + envelope.entries.size() > relay_max_members) {
    node.roster_next = 0;
    node.roster.clear();
    ++rejected_;
    last_error_ = "more than " + std::to_string(relay_max_members) + " members on node " + envelope.node;
    return;
  }
  node.roster.insert(node.roster.end(), envelope.entries.begin(), envelope.entries.end());
  if (envelope.part < envelope.parts) {
    ++node.roster_next;
    return;
  }
  node.roster_next = 0;
  apply_roster(envelope.node, node, effects);
  resolve_collisions(now, effects);
}

void Relay::apply_roster(const std::string& name, Node& node, Effects& effects) {
  std::map<std::uint64_t, Member> fresh;
  for (RosterEntry& entry : node.roster) {
    const auto old = node.members.find(entry.id);
    std::string key =
        old != node.members.end() && old->second.name == entry.name ? old->second.key : fold_nick(entry.name);
    fresh[entry.id] = Member{entry.joined, entry.claimed, std::move(entry.name), std::move(key)};
  }
  node.roster.clear();
  // Names in order of joining, for the bulk notices.
  const auto in_order = [](std::vector<std::pair<std::uint64_t, std::string>> list) {
    std::sort(list.begin(), list.end());
    std::vector<std::string> names;
    for (auto& item : list)
      names.push_back(std::move(item.second));
    return names;
  };
  std::vector<std::pair<std::uint64_t, std::string>> left;
  std::vector<std::pair<std::uint64_t, std::string>> joined;
  for (const auto& [id, member] : node.members) {
    if (!fresh.contains(id)) left.emplace_back(member.joined, member.name);
  }
  if (!left.empty()) {
    RelayEffect out = effect(RelayEffect::Kind::bulk_leave, name);
    out.names = in_order(std::move(left));
    out.count = out.names.size();
    out.why = NodeLeft::resync;
    effects.push_back(std::move(out));
  }
  for (const auto& [id, member] : fresh) {
    const auto old = node.members.find(id);
    if (old == node.members.end()) {
      joined.emplace_back(member.joined, member.name);
    } else if (old->second.name != member.name) {
      RelayEffect out = effect(RelayEffect::Kind::nick, name);
      out.id = id;
      out.name = old->second.name;
      out.new_name = member.name;
      effects.push_back(std::move(out));
    }
  }
  if (!joined.empty()) {
    RelayEffect out = effect(RelayEffect::Kind::bulk_join, name);
    out.names = in_order(std::move(joined));
    out.count = out.names.size();
    effects.push_back(std::move(out));
  }
  node.members = std::move(fresh);
}

void Relay::drop_members(const std::string& name, Node& node, NodeLeft why, Effects& effects) {
  node.roster.clear();
  node.roster_next = 0;
  if (node.members.empty()) return;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (auto& [id, member] : node.members)
    order.emplace_back(member.joined, std::move(member.name));
  std::sort(order.begin(), order.end());
  RelayEffect out = effect(RelayEffect::Kind::bulk_leave, name);
  for (auto& item : order)
    out.names.push_back(std::move(item.second));
  out.count = out.names.size();
  out.why = why;
  effects.push_back(std::move(out));
  node.members.clear();
}

void Relay::resolve_collisions(Clock::time_point now, Effects& effects) {
  // Only a local member with a chosen name can lose it (guest names are unique by node): gather those
  // first, usually few, so that a roster arriving in a room of thousands of guests costs one pass over the
  // view with no lookups, and none at all when nobody here has a nick.
  std::unordered_map<std::string_view, std::pair<std::uint64_t, std::string_view>> contested;
  for (const auto& [id, member] : self_.members) {
    if (member.name != guest_name(id))
      contested.emplace(member.key, std::pair<std::uint64_t, std::string_view>{member.claimed, node_});
  }
  if (contested.empty()) return;
  // The smallest (claimed, node) per contested name among the members of reachable nodes and this one.
  for (const auto& [name, node] : nodes_) {
    if (!node.up) continue;
    for (const auto& [id, member] : node.members) {
      const auto found = contested.find(member.key);
      if (found == contested.end()) continue;
      const std::pair<std::uint64_t, std::string_view> claim{member.claimed, name};
      if (claim < found->second) found->second = claim;
    }
  }
  std::vector<std::pair<std::uint64_t, std::string>> losers;  // local id, the winner's node
  for (const auto& [id, member] : self_.members) {
    if (member.name == guest_name(id)) continue;
    const auto& winner = contested.at(member.key);
    if (winner.second != node_) losers.emplace_back(id, std::string(winner.second));
  }
  for (const auto& [id, winner] : losers) {
    Member& member = self_.members[id];
    RelayEffect out = effect(RelayEffect::Kind::renamed, winner);
    out.id = id;
    out.name = member.name;
    out.new_name = guest_name(id);
    Envelope envelope;
    envelope.kind = Kind::nick;
    envelope.id = id;
    envelope.name = member.name;
    envelope.new_name = out.new_name;
    envelope.clock = next_clock(now);
    member.name = out.new_name;
    member.key = fold_nick(member.name);
    member.claimed = envelope.clock;
    send(std::move(envelope), now);
    effects.push_back(std::move(out));
  }
}

}  // namespace dschat
