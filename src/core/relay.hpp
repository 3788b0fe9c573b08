#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/relay_envelope.hpp"

namespace dschat {

/// Most remote nodes a relay keeps track of; envelopes of further ones are rejected.
inline constexpr std::size_t relay_max_nodes = 64;

/// Most members a relay keeps for one remote node; further joins, and larger rosters, are rejected.
inline constexpr std::size_t relay_max_members = 65536;

/// Settings of one server's relay.
struct RelayConfig {
  std::string node;           ///< this server's node name, [a-z0-9-]{1,16}, unique in the room
  std::uint64_t epoch = 0;    ///< this start's epoch, larger than any earlier start's: see make_relay_epoch
  std::uint64_t wall_ms = 0;  ///< wall clock at construction, ms since 1970: the logical clock's base
  std::chrono::milliseconds heartbeat{2000};  ///< --relay-heartbeat
};

/// An epoch for a server started at wall_ms: the time in the high bits, so a restart's epoch is larger
/// (while a node is up, receivers take a smaller one for a late message of an earlier start; once it is
/// down or said bye, any other epoch is a restart), random in the low 16.
std::uint64_t make_relay_epoch(std::uint64_t wall_ms, std::uint16_t random) noexcept;

/// Why the members of a node left all at once.
enum class NodeLeft {
  unreachable,    ///< silent for 3.5 heartbeats
  shutting_down,  ///< it said bye
  restarted,      ///< it came back with a new epoch: its old members are gone
  resync,         ///< a roster no longer lists them (their leave was lost)
};

/// What the room must show after a received envelope or the passing of time; remote members only, but
/// for renamed.
struct RelayEffect {
  /// What happened.
  enum class Kind {
    chat,        ///< name (of node) said text
    me,          ///< name did /me text
    join,        ///< name joined on node
    leave,       ///< name left; text is the reason
    nick,        ///< name is now new_name
    bulk_join,   ///< names of node appeared at once (a roster: a node is back, or joins were lost)
    bulk_leave,  ///< names of node left at once, for why
    renamed,     ///< LOCAL member id lost name to a claim of node: it is new_name (its guest name) now
    lost,        ///< count envelopes from node never arrived
  };
  Kind kind = Kind::chat;          ///< what happened
  std::string node;                ///< the node it is about (renamed: the node whose claim won)
  std::uint64_t id = 0;            ///< the member's id on its node (chat, me, join, leave, nick, renamed)
  std::string name;                ///< the member's name (nick, renamed: the old one)
  std::string new_name;            ///< nick, renamed: the name it has now
  std::string text;                ///< chat, me: the line; leave: the reason
  std::vector<std::string> names;  ///< bulk_join, bulk_leave: the names, in order of joining
  std::uint64_t count = 0;         ///< bulk_join, bulk_leave: names.size(); lost: envelopes missing
  NodeLeft why = NodeLeft::unreachable;  ///< bulk_leave
  bool operator==(const RelayEffect&) const = default;
};

/// What /who shows, from the replicated view.
struct RelayWho {
  std::size_t total = 0;           ///< members online on every reachable node, this one included
  std::size_t here = 0;            ///< members on this node
  std::vector<std::string> names;  ///< every name, in order of joining (by clock, then node, then id)
};

/// The replicated room state of one server in a cluster (sans-I/O: time is passed in, envelopes come
/// in as payloads and go out through take_outbox). Local events become envelopes; received envelopes
/// become effects; tick() sends heartbeats and finds silent nodes. Every server holds every node's
/// roster, so name checks and /who are local. Names of members are `guest-<id>@<node>` until a /nick;
/// when two servers grant names that fold alike (fold_nick), the claim with the smaller (clock, node)
/// keeps it and the other server renames its member back to its guest name.
class Relay {
 public:
  using Clock = std::chrono::steady_clock;

  /// A relay for config.node; nothing is sent until connected() or a local event.
  Relay(RelayConfig config, Clock::time_point now);

  /// `guest-<id>@<node>`: the name a local member joins with.
  std::string guest_name(std::uint64_t id) const;

  /// A local member joined (its name is guest_name(id)); ids are never reused.
  void join(std::uint64_t id, Clock::time_point now);

  /// A local member's line; text is sanitized (is_clean), at most max_envelope_text bytes (throws
  /// std::invalid_argument otherwise). Unknown ids are ignored.
  void chat(std::uint64_t id, std::string_view text, Clock::time_point now);

  /// A local member's /me; text as for chat.
  void me(std::uint64_t id, std::string_view text, Clock::time_point now);

  /// A local member asks for name (already checked with check_nick). Returns false, sending nothing, when
  /// a name folding alike is held by someone else anywhere in the view.
  bool nick(std::uint64_t id, std::string_view name, Clock::time_point now);

  /// A local member left; reason is sanitized text, may be empty.
  void leave(std::uint64_t id, std::string_view reason, Clock::time_point now);

  /// The link to the broker is (again) up: publishes this node's roster and asks every node for its own.
  void connected(Clock::time_point now);

  /// The server is shutting down: publishes bye.
  void bye(std::string_view reason, Clock::time_point now);

  /// Handles one received payload; appends what the room must show to effects. Invalid, stale and
  /// duplicate envelopes, and those past relay_max_nodes or relay_max_members, are counted and otherwise
  /// ignored.
  void receive(std::string_view payload, Clock::time_point now, std::vector<RelayEffect>& effects);

  /// Sends the heartbeat when due and declares nodes silent for 3.5 heartbeats down (one bulk_leave each).
  void tick(Clock::time_point now, std::vector<RelayEffect>& effects);

  /// When tick() next has something to do.
  Clock::time_point next_tick() const;

  /// The envelopes to publish, in order, each one NATS payload; the outbox is empty afterwards.
  std::vector<std::string> take_outbox();

  /// True when a name folding like name is held by a member anywhere in the view.
  bool name_taken(std::string_view name) const;

  /// The name of the member, on this node or a reachable one, whose name folds like name (valid UTF-8: a
  /// nickname, or guest-N@NODE); empty when nobody's does.
  std::string holder(std::string_view name) const;

  /// The current name of a local member, empty when unknown.
  std::string local_name(std::uint64_t id) const;

  /// /who from the replicated view.
  RelayWho who() const;

  /// Reachable remote nodes, by name.
  std::vector<std::string> nodes_up() const;

  /// Remote nodes found silent (not those that said bye), by name, each with when it was last heard.
  std::vector<std::pair<std::string, Clock::time_point>> nodes_unreachable() const;

  /// Envelopes that did not parse.
  std::uint64_t rejected() const noexcept { return rejected_; }

  /// Envelopes dropped as duplicates or as stale (older epoch, older seq).
  std::uint64_t duplicates() const noexcept { return duplicates_; }

  /// Envelopes of other nodes found missing by their seq.
  std::uint64_t lost() const noexcept { return lost_; }

  /// Envelopes carrying this server's own node name: another server uses it, a configuration error to log
  /// loudly (the broker never echoes our own envelopes back). They are ignored, and not counted as rejected.
  std::uint64_t conflicts() const noexcept { return conflicts_; }

  /// The last envelope parse error, for a log line.
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  // A chat line or an action of local member id.
  void send_text(Envelope::Kind kind, std::uint64_t id, std::string_view text, Clock::time_point now);

  struct Member {
    std::uint64_t joined = 0;
    std::uint64_t claimed = 0;
    std::string name;
    std::string key;  // fold_nick(name)
  };
  struct Node {
    std::uint64_t epoch = 0;
    std::uint64_t seq = 0;  // the last seq seen (remote) or sent (this node)
    Clock::time_point heard{};
    bool up = true;
    bool gone = false;  // said bye: the rest of this epoch is ignored
    std::map<std::uint64_t, Member> members;
    std::vector<RosterEntry> roster;  // parts of a roster being received
    std::uint64_t roster_seq = 0;
    std::uint32_t roster_next = 0;  // the part expected next; 0 when none
    Clock::time_point sync_asked{};
    bool asked = false;
  };
  using Effects = std::vector<RelayEffect>;

  std::uint64_t next_clock(Clock::time_point now);
  void send(Envelope envelope, Clock::time_point now);
  void send_roster(Clock::time_point now);
  void answer_sync(Clock::time_point now);
  void ask_sync(const std::string& name, Node& node, Clock::time_point now);
  Node* origin(const Envelope& envelope, Clock::time_point now, Effects& effects);
  bool check_seq(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects);
  void apply(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects);
  void apply_member(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects);
  void apply_roster_part(const Envelope& envelope, Node& node, Clock::time_point now, Effects& effects);
  void apply_roster(const std::string& name, Node& node, Effects& effects);
  void drop_members(const std::string& name, Node& node, NodeLeft why, Effects& effects);
  void resolve_collisions(Clock::time_point now, Effects& effects);
  Member* local(std::uint64_t id);
  static std::uint64_t digest(const std::map<std::uint64_t, Member>& members);

  std::string node_;
  std::uint64_t epoch_;
  std::uint64_t wall_ms_;
  Clock::time_point start_;
  Clock::duration heartbeat_;
  std::uint64_t clock_ = 0;
  Node self_;
  std::map<std::string, Node, std::less<>> nodes_;  // remote nodes
  Clock::time_point next_heartbeat_;
  // Requests for this node's roster that arrive together get one answer (answer_sync).
  Clock::duration roster_coalesce_;
  std::optional<Clock::time_point> roster_sent_;  // the last time this node published its roster
  std::optional<Clock::time_point> roster_due_;   // a roster owed to requests that came just after one
  std::vector<std::string> outbox_;
  std::uint64_t rejected_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t conflicts_ = 0;
  std::string last_error_;
};

}  // namespace dschat
