#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dschat {

// The cluster relay's envelope: one line, the payload of one NATS message.
//
//   DSC1 <kind> <node> <epoch> <seq> <clock> <fields…>
//
// Fields are separated by exactly one space. <node> is [a-z0-9-]{1,16}; <epoch> 1–16 lowercase hex digits
// (written as 16); <seq>, <clock>, ids and counts decimal without sign, at most 20 digits, within 64 bits.
// Names are 1–128 bytes of clean UTF-8 (sanitize.hpp's is_clean) with no space or TAB; free text is clean
// UTF-8 of at most 32 KiB (no CR, LF or other control character but TAB) and always comes last, so it
// may hold spaces and may be empty. The fields by kind:
//
//   chat   <id> <name> <text>        a member's line              (counts a seq)
//   me     <id> <name> <text>        a member's /me               (counts a seq)
//   join   <id> <name>               a member joined              (counts a seq)
//   nick   <id> <old> <new>          a member's name changed; <clock> is the claim's clock (counts a seq)
//   leave  <id> <name> <reason>      a member left                (counts a seq)
//   hb     <count> <digest>          heartbeat: members, roster digest (16 hex digits); seq = last counted
//   roster <i>/<n> [<entry>…]        part i of n of the node's members; entry = id:joined:claimed:name
//   sync   <target>                  asks node <target>, or every node for `*`, to publish its roster
//   bye    <reason>                  the node is shutting down
//
// <id> is the member's number on its node: its guest name is guest-<id>@<node>.

/// Longest envelope line accepted.
inline constexpr std::size_t max_envelope_size = 64 * 1024;

/// Longest free-text field (chat text, reasons): room for a 4096-byte line after sanitizing.
inline constexpr std::size_t max_envelope_text = 32 * 1024;

/// Longest name field, in bytes.
inline constexpr std::size_t max_envelope_name = 128;

/// True when node is a valid node name, [a-z0-9-]{1,16}.
bool is_valid_node_name(std::string_view node) noexcept;

/// One member in a roster.
struct RosterEntry {
  std::uint64_t id = 0;       ///< the member's number on its node
  std::uint64_t joined = 0;   ///< clock of the join: orders members in /who
  std::uint64_t claimed = 0;  ///< clock of the claim on the current name: decides name collisions
  std::string name;           ///< current name
  bool operator==(const RosterEntry&) const = default;
};

/// A decoded envelope; which fields matter depends on kind (see above).
struct Envelope {
  /// The kinds, as described above.
  enum class Kind { chat, me, join, nick, leave, hb, roster, sync, bye };
  Kind kind = Kind::hb;      ///< what it says
  std::string node;          ///< the origin server
  std::uint64_t epoch = 0;   ///< the origin's start: larger after a restart
  std::uint64_t seq = 0;     ///< counts chat, me, join, nick, leave per (node, epoch); others carry the last
  std::uint64_t clock = 0;   ///< the origin's hybrid logical clock, in ms
  std::uint64_t id = 0;      ///< chat, me, join, nick, leave
  std::string name;          ///< chat, me, join, leave: the member's name; nick: the old name
  std::string new_name;      ///< nick
  std::string text;          ///< chat, me: the line; leave, bye: the reason; sync: the target
  std::uint64_t count = 0;   ///< hb
  std::uint64_t digest = 0;  ///< hb
  std::uint32_t part = 1;    ///< roster: i
  std::uint32_t parts = 1;   ///< roster: n
  std::vector<RosterEntry> entries;  ///< roster
  bool operator==(const Envelope&) const = default;
};

/// True for the kinds that count a seq: chat, me, join, nick, leave.
bool counts_seq(Envelope::Kind kind) noexcept;

/// The kind's name on the wire, e.g. "chat".
std::string_view kind_name(Envelope::Kind kind) noexcept;

/// Appends envelope's line to out (no line ending). The fields must be valid (parse_envelope would
/// accept the result); throws std::invalid_argument otherwise.
void append_envelope(std::string& out, const Envelope& envelope);

/// append_envelope into a new string.
std::string encode_envelope(const Envelope& envelope);

/// Parses one envelope line. On failure returns nullopt and, when error is given, sets it to the reason,
/// e.g. "bad node name".
std::optional<Envelope> parse_envelope(std::string_view line, std::string* error = nullptr);

}  // namespace dschat
