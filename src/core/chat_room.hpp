#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/message.hpp"
#include "core/relay.hpp"

namespace dschat {

/// Where the room sends one member's output; implemented by each server's I/O layer. Called from inside
/// the room (under the room's lock in the threaded server, on the loop thread in the async one): it must
/// not block and must not call back into the room. A full outbox is noted and acted on later by the caller.
class ChatPeer {
 public:
  virtual ~ChatPeer() = default;

  /// Queues msg for this member.
  virtual void send(const Message& msg) = 0;
};

/// The room's link to the other servers of a cluster (serve --mode async --relay; docs/cluster.md). The room
/// tells it what its members do, always after the local fan-out (local delivery never waits for it), and
/// asks it about names and counts. Members are known to it by their guest number N.
class RoomRelay {
 public:
  virtual ~RoomRelay() = default;

  /// The name member N joins with: guest-N@NODE.
  virtual std::string guest_name(std::uint64_t guest) const = 0;
  /// Member N was announced: the other servers learn of it.
  virtual void joined(std::uint64_t guest) = 0;
  /// Member N's chat line (sanitized).
  virtual void said(std::uint64_t guest, std::string_view text) = 0;
  /// Member N's /me (sanitized).
  virtual void acted(std::uint64_t guest, std::string_view text) = 0;
  /// Member N asks for name (checked locally already); false when someone on any server holds it.
  virtual bool claim(std::uint64_t guest, std::string_view name) = 0;
  /// Member N left; reason as the local notice shows it, may be empty.
  virtual void left(std::uint64_t guest, std::string_view reason) = 0;
  /// /who over every reachable server.
  virtual RelayWho who() const = 0;
  /// /who NAME: the name of the member of any reachable server, this one included, whose name folds like
  /// name (a nickname, or guest-N@NODE); empty when nobody's does.
  virtual std::string holder(std::string_view name) const = 0;
};

/// The room's clock: time is passed in (ChatRoom::tick), never read.
using RoomClock = std::chrono::steady_clock;

/// How a chat room behaves.
struct ChatRoomOptions {
  bool raw = false;             ///< relay lines unchanged: no names, notices or commands
  std::size_t max_line = 4096;  ///< for the "line too long" reply
  /// A newcomer's "* NAME joined" waits this long, or until its first line; one that leaves before is
  /// never announced, nor its leaving (a connection that comes and goes costs the room nothing).
  /// Zero: announced at once.
  RoomClock::duration announce_after{};
  /// Above this many members, joins and leaves are counted and told in one summary per summary_every
  /// ("* 212 joined, 3 left in the last 10 s — 1,240 online"). Zero: never.
  std::size_t big_room = 0;
  RoomClock::duration summary_every = std::chrono::seconds(10);  ///< whole seconds
};

/// What the caller does after a line.
enum class LineResult {
  keep_open,  ///< go on reading
  close,      ///< the member asked to leave (/quit): flush its outbox, close, then call leave()
};

/// The chat service of docs/protocol.md without any I/O: membership, names, commands, formatting and fan-out.
/// Shared by the threaded and the async server; every message is sanitized and formatted once.
class ChatRoom {
 public:
  using MemberId = std::uint64_t;

  explicit ChatRoom(ChatRoomOptions options);

  /// Adds a member named guest-N (N counts up, never reused), sends it the welcome line and tells the
  /// others "* guest-N joined" (raw mode: no welcome, no notice). peer must outlive its membership.
  MemberId join(ChatPeer& peer);

  /// Until end_joins(), join() holds back its "* guest-N joined" notice. end_joins() then tells the members
  /// who were there before in one message holding every notice of the batch, and each newcomer, in one
  /// message, the notices of those who joined after it: the same lines in the same order as one join at a
  /// time, but a burst of N joins queues one message per member instead of N. Calls do not nest.
  void begin_joins() noexcept;
  void end_joins() noexcept;

  /// Removes a member and tells the others "* NAME left", followed by " (REASON)" when reason is not
  /// empty or the member quit with a reason. Nothing is sent after broadcast_shutdown() or in raw mode.
  /// Unknown ids are ignored.
  void leave(MemberId id, std::string_view reason = {});

  /// Handles one line from a member (framed, not yet sanitized): chat line, command or, in raw mode,
  /// a relay to the others. Empty lines are ignored in chat mode, every line after broadcast_shutdown().
  LineResult on_line(MemberId id, std::string_view line);

  /// Tells the member its line passed max_line ("! line too long (max N bytes)").
  void on_too_long(MemberId id);

  /// From now on the member gets every line with CRLF (its own lines end in CRLF). A message sent to many
  /// is still formatted once, its CRLF form made at most once and only when a member needs it.
  void set_crlf(MemberId id);

  /// Sends the member one line of its own, such as "! slow down: …". Unknown ids are ignored.
  void tell(MemberId id, std::string_view text);

  /// Moves the room's clock to now (called a few times a second by the server): announces the newcomers
  /// that have waited announce_after and sends a big room's summary when it is due.
  void tick(RoomClock::time_point now);

  /// Shares the room with other servers through relay from now on (before the first join); relay must
  /// outlive the room's use of it.
  void set_relay(RoomRelay* relay) noexcept { relay_ = relay; }

  /// Shows what happened on another server (or to the link) to the members here: lines, notices, and the
  /// renaming of a local member that lost a name collision. Raw rooms show remote chat lines only.
  void remote(const RelayEffect& effect);

  /// Tells every member one notice of the relay's own, such as "* lost the link to the other servers —
  /// chatting with this server only". Nothing in raw mode or after broadcast_shutdown().
  void relay_notice(std::string_view text);

  /// Sends "* server shutting down" to every member; later leaves are silent.
  void broadcast_shutdown();

  /// The member's current name (empty for unknown ids).
  std::string_view name(MemberId id) const;

  /// Number of members.
  std::size_t size() const noexcept { return members_.size(); }

 private:
  struct Member {
    MemberId id;
    ChatPeer* peer;
    std::string name;
    std::string key;          // fold_nick(name), its entry in by_name_
    std::uint64_t guest;      // the N it joined as: guest-N stays its own after a /nick
    std::string quit_reason;  // sanitized reason given with /quit
    bool quit = false;
    bool crlf = false;      // gets "\r\n" line endings
    bool announced = true;  // its "joined" went out (or was counted): its leaving is told too
  };

  /// Sends the notices a batch holds back. Called before anything else the room sends, so that nothing
  /// overtakes them: a newcomer's reader may already run inside the batch, and its /nick must follow its
  /// "joined".
  void release_joins() noexcept;
  /// Tells the others that member joined: at once, into a batch, or counted for a big room's summary.
  void announce_join(Member& member);
  /// Counts a join or leave for the summary instead of a notice, when the room is big.
  bool counted_for_summary(std::size_t& counter);
  void send_summary();
  Member* find(MemberId id);
  const Member* find(MemberId id) const;
  // Every send of the room goes through these three (release_joins() first), but a newcomer's welcome.
  void send_to(Member& member, std::string_view text);
  void send_to(Member& member, const Message& msg);
  void send_others(const Member& from, const Message& msg);
  void send_all(const Message& msg);
  /// Sends msg to the members other than skip that joined before below (ids count up with joins).
  void send_where(const Message& msg, MemberId skip, MemberId below);
  static constexpr MemberId no_member_after = ~MemberId{0};
  LineResult handle_command(Member& member, std::string_view command, std::string_view arg);
  /// Sends "<NAME> " + around + text + around to the others: around is "" for a chat line, "*" for /me.
  void relay(const Member& from, std::string_view text, std::string_view around);
  void nick(Member& member, std::string_view name);
  /// /who: the members in order of joining, a page of them at a time; /who PAGE; /who NAME.
  void who(Member& member, std::string_view arg);
  /// /who NAME: whether someone looking like NAME is online.
  void who_is(Member& member, std::string_view name);
  void unknown_command(Member& member, std::string_view command);
  /// /who from the relay's replicated view: every server's members.
  void who_cluster(Member& member, std::string_view arg);
  /// The local member whose guest number is guest, or null.
  Member* find_guest(std::uint64_t guest);

  ChatRoomOptions options_;
  std::vector<Member> members_;                        // fan-out walks this densely packed vector
  std::unordered_map<MemberId, std::size_t> index_;    // id -> position in members_
  std::unordered_map<std::string, MemberId> by_name_;  // folded name -> id, for uniqueness
  std::string scratch_;  // reused to format each message before it is copied once
  Message help_;         // fixed replies, formatted once per room
  Message too_long_;
  Message shutting_down_msg_;
  std::string join_notices_;            // begin_joins(): the batch's notice lines, LF included
  std::vector<std::size_t> join_ends_;  // where each newcomer's notice ends in join_notices_
  MemberId first_joiner_ = 0;           // id of the batch's first newcomer; ids count up by one
  bool joining_ = false;
  std::deque<std::pair<MemberId, RoomClock::time_point>> unannounced_;  // in order of joining
  RoomClock::time_point now_{};                                         // the last tick()
  std::size_t summary_joined_ = 0;                                      // counted since the last summary
  std::size_t summary_left_ = 0;
  RoomClock::time_point summary_since_{};  // when the first of them was counted
  MemberId next_id_ = 1;
  std::uint64_t next_guest_ = 1;
  bool shutting_down_ = false;
  RoomRelay* relay_ = nullptr;
  std::vector<std::string> unreachable_;  // servers whose members left as unreachable: "are back" later
};

/// begin_joins() for its lifetime, end_joins() when it ends, whatever ends it; a null room is no batch.
class JoinBatch {
 public:
  explicit JoinBatch(ChatRoom* room) noexcept : room_(room) {
    if (room_ != nullptr) room_->begin_joins();
  }
  ~JoinBatch() {
    if (room_ != nullptr) room_->end_joins();
  }
  JoinBatch(const JoinBatch&) = delete;
  JoinBatch& operator=(const JoinBatch&) = delete;

 private:
  ChatRoom* room_;
};

}  // namespace dschat
