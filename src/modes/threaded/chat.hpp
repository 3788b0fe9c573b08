#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/chat_room.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve_options.hpp"
#include "modes/threaded/chat_output.hpp"
#include "modes/threaded/connection.hpp"
#include "modes/threaded/shared_room.hpp"

namespace dschat::threaded {

/// A chat client from its acceptance to its reaping: its output, whose writer thread starts at once, and
/// its place in the room. The main thread makes it and seats it with the others accepted in the same turn
/// (join_together); the client's thread then serves it (serve_chat_client).
class ChatMember {
 public:
  /// Output for connection holding at most max_queue unsent bytes; not yet in room.
  ChatMember(Connection& connection, SharedRoom& room, std::size_t max_queue);

  /// Leaves the room if still in it, then stops the output: the room never keeps a member whose thread has
  /// ended or never started, even when an exception escapes.
  ~ChatMember();

  ChatMember(const ChatMember&) = delete;
  ChatMember& operator=(const ChatMember&) = delete;

  ChatOutput& output() noexcept { return *output_; }
  ChatRoom::MemberId id() const noexcept { return id_; }

  /// The name at join, or at leave once left.
  const std::string& name() const noexcept { return name_; }

  /// Leaves the room, telling the others reason (empty for a normal leave); later calls do nothing.
  void leave(std::string_view reason);

  /// Seats members in room together (SharedRoom::join_together); each is seated once.
  static void join_together(SharedRoom& room, std::span<ChatMember* const> members);

 private:
  SharedRoom& room_;
  std::shared_ptr<ChatOutput> output_;  // shared with the room's flushers: a pass may outlive the member
  ChatRoom::MemberId id_ = 0;
  std::string name_;
  bool joined_ = false;
  bool left_ = false;
};

/// Chat service for one client, on its own thread (its output has a writer thread of its own): hand the
/// room every line of a joined member until /quit, end of stream, an error, a full send queue or the
/// server stops; then leave, flush, close and log the disconnection.
void serve_chat_client(Connection& connection, ChatMember& member, SharedRoom& room,
                       const ServeOptions& options, const ConnectionLog& log);

}  // namespace dschat::threaded
