#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/message.hpp"

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

/// How a chat room behaves.
struct ChatRoomOptions {
  bool raw = false;             ///< relay lines unchanged: no names, notices or commands
  std::size_t max_line = 4096;  ///< for the "line too long" reply
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
    bool crlf = false;  // gets "\r\n" line endings
  };

  /// Sends the notices a batch holds back. Called before anything else the room sends, so that nothing
  /// overtakes them: a newcomer's reader may already run inside the batch, and its /nick must follow its
  /// "joined".
  void release_joins() noexcept;
  Member* find(MemberId id);
  const Member* find(MemberId id) const;
  // Every send of the room goes through these three (release_joins() first), but a newcomer's welcome.
  void send_to(Member& member, std::string_view text);
  void send_to(Member& member, const Message& msg);
  void send_others(const Member& from, const Message& msg);
  void send_all(const Message& msg);
  LineResult handle_command(Member& member, std::string_view command, std::string_view arg);
  /// Sends "<NAME> " + around + text + around to the others: around is "" for a chat line, "*" for /me.
  void relay(const Member& from, std::string_view text, std::string_view around);
  void nick(Member& member, std::string_view name);
  /// /who: the members in order of joining, a page of them at a time; /who PAGE; /who NAME.
  void who(Member& member, std::string_view arg);
  /// /who NAME: whether someone looking like NAME is online.
  void who_is(Member& member, std::string_view name);
  void unknown_command(Member& member, std::string_view command);

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
  MemberId next_id_ = 1;
  std::uint64_t next_guest_ = 1;
  bool shutting_down_ = false;
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
