#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/chat_room.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve.hpp"
#include "modes/threaded_chat_output.hpp"
#include "modes/threaded_connection.hpp"

namespace dschat {

/// The one chat room of a threaded server and the lock every client thread takes to use it.
struct LockedRoom {
  /// A room configured from the server's flags; flush_soon must have flush_deferred() run soon on
  /// another thread (the server's main thread), without waiting for it.
  LockedRoom(const ChatRoomOptions& options, std::function<void()> flush_soon)
      : room(options), schedule_flush(std::move(flush_soon)) {}

  std::mutex mutex;
  ChatRoom room;
  DeferredOutputs deferred;  // queues a flusher writes through outside the lock; everything here under mutex
  std::condition_variable passed;  // a flusher has written a pass (see DeferredOutputs::forget)
  std::function<void()> schedule_flush;
  bool flush_scheduled = false;
  bool flushing = false;  // some thread is in flush_queued() or flush_deferred() and takes all that comes
};

/// Writes through what the room queued for its members, outside the room's lock, unless another thread
/// is doing so already (it takes these lines too). Called by a client thread after each batch of lines:
/// a few passes, then the rest is handed to flush_deferred().
void flush_queued(LockedRoom& shared);

/// flush_queued() for the server's main thread: what leaves deferred and what client threads handed over.
void flush_deferred(LockedRoom& shared);

/// A chat client from its acceptance to its reaping: its output, whose writer thread starts at once, and
/// its place in the room. The main thread makes it and seats it with the others accepted in the same turn
/// (join_together); the client's thread then serves it (serve_chat_client).
class ChatMember {
 public:
  /// Output for connection holding at most max_queue unsent bytes; not yet in shared's room.
  ChatMember(Connection& connection, LockedRoom& shared, std::size_t max_queue);

  /// Leaves the room if still in it, then stops the output: the room never keeps a member whose thread has
  /// ended or never started, even when an exception escapes.
  ~ChatMember() { leave({}); }

  ChatMember(const ChatMember&) = delete;
  ChatMember& operator=(const ChatMember&) = delete;

  ChatOutput& output() noexcept { return output_; }
  ChatRoom::MemberId id() const noexcept { return id_; }

  /// The name at join, or at leave once left.
  const std::string& name() const noexcept { return name_; }

  /// Leaves the room, telling the others reason (empty for a normal leave); later calls do nothing. The
  /// notice is queued at once and written by flush_deferred() or the next line a member is sent,
  /// whichever comes first: when many leave together, everyone gets one write for all their notices.
  void leave(std::string_view reason);

 private:
  friend void join_together(LockedRoom& shared, std::span<ChatMember* const> members);

  LockedRoom& shared_;
  ChatOutput output_;  // before the membership: the room may send to it from the moment it joins
  ChatRoom::MemberId id_ = 0;
  std::string name_;
  bool joined_ = false;
  bool left_ = false;
};

/// Seats members in the room under one acquisition of its lock. Each join tells every member: one by one,
/// a burst of N connections would cost N² writes; together, every member gets one write for the notices
/// of the whole batch.
void join_together(LockedRoom& shared, std::span<ChatMember* const> members);

/// Echo service for one client, on its own thread: reply each line with itself until `end`, end of
/// stream, an error or the server stops; then close and log the disconnection.
void serve_echo_client(Connection& connection, const ServeOptions& options, const ConnectionLog& log);

/// Chat service for one client, on its own thread (its output has a writer thread of its own): hand the
/// room every line of a joined member until /quit, end of stream, an error, a full send queue or the
/// server stops; then leave, flush, close and log the disconnection.
void serve_chat_client(Connection& connection, ChatMember& member, LockedRoom& room,
                       const ServeOptions& options, const ConnectionLog& log);

}  // namespace dschat
