#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/chat_room.hpp"
#include "modes/threaded/chat_output.hpp"

namespace dschat::threaded {

/// The one chat room of a threaded server, the lock every client thread takes to use it, and the
/// combining flush. Whatever the room sends while the lock is held is only queued in the members'
/// outputs, which are listed as waiting; after the lock, one thread at a time writes every waiting output
/// through (a pass) while the others only queue, so under load each member gets one write for many lines
/// instead of one per line. A flusher holds the outputs of its pass by shared_ptr, so a member may leave
/// and go while its output is being written. All the state below is guarded by mutex_.
class SharedRoom {
 public:
  /// A member seated by join_together().
  struct Seated {
    ChatRoom::MemberId id;
    std::string name;
  };

  /// A room configured from the server's flags; flush_soon must have flush_deferred() run soon on
  /// another thread (the server's main thread), without waiting for it.
  SharedRoom(const ChatRoomOptions& options, std::function<void()> flush_soon);

  ~SharedRoom();

  SharedRoom(const SharedRoom&) = delete;
  SharedRoom& operator=(const SharedRoom&) = delete;

  /// Takes the lock. Seats the outputs' members together: each member gets one message for the notices of
  /// the whole batch (a burst of N joins one by one would cost N² writes). Then writes them through.
  std::vector<Seated> join_together(std::span<const std::shared_ptr<ChatOutput>> outputs);

  /// Takes the lock and calls handle(ChatRoom&) with it held; what the room sends meanwhile is queued
  /// only: call flush_queued() after.
  template <class Handle>
  decltype(auto) locked(Handle&& handle) {
    const std::scoped_lock lock(mutex_);
    return std::forward<Handle>(handle)(room_);
  }

  /// Takes the lock. The member leaves, the others are told reason (empty for a normal leave); returns
  /// its name. The notices are written by the next pass: when many leave together, everyone gets one
  /// write for all their notices. Its own output is the caller's to finish.
  std::string leave(ChatRoom::MemberId id, std::string_view reason);

  /// Takes the lock. Moves the room's clock (ChatRoom::tick); what it sends goes out with the next pass.
  void tick(RoomClock::time_point now);

  /// Takes the lock. Tells every member the server is shutting down and writes it through.
  void broadcast_shutdown();

  /// Takes the lock. Writes the waiting outputs through, outside the lock, unless another thread is doing
  /// so already (it takes these too). A client thread calls it after each batch of lines: a few passes,
  /// then the rest is handed to flush_deferred() on the main thread.
  void flush_queued();

  /// Takes the lock. flush_queued() for the main thread, which flush_soon runs it on.
  void flush_deferred();

 private:
  class Seat;

  /// Lock held on entry and on return, released while writing: passes until nothing waits.
  void flush_passes(std::unique_lock<std::mutex>& lock);
  /// Lock held: has flush_deferred() run soon unless a flusher or a scheduled flush will take the rest.
  void schedule_flush();

  std::mutex mutex_;
  ChatRoom room_;
  std::unordered_map<ChatRoom::MemberId, std::unique_ptr<Seat>> seats_;
  std::vector<Seat*> waiting_;  // seats whose output has lines queued since the last pass took it
  std::function<void()> flush_soon_;
  bool flush_scheduled_ = false;
  bool flushing_ = false;  // some thread is in flush_passes() and takes all that comes
};

}  // namespace dschat::threaded
