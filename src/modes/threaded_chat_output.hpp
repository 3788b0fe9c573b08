#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "core/chat_room.hpp"
#include "core/outbox.hpp"
#include "modes/threaded_connection.hpp"

namespace dschat {

class ChatOutputBatch;
class DeferredOutputs;

/// A chat client's output in the threaded server. The room's send() (under the room lock, never
/// blocking) queues into a bounded outbox and, unless a ChatOutputBatch is open, writes the queue straight
/// to the socket without blocking; what the socket does not take, a writer thread of its own drains, so a
/// client that stops reading holds up nobody else. When the outbox would pass its limit the client is cut
/// off (abort) and marked too slow.
class ChatOutput final : public ChatPeer {
 public:
  /// Output for connection holding at most max_queue unsent bytes; starts the writer thread.
  ChatOutput(Connection& connection, std::size_t max_queue);

  /// Stops the writer without flushing if finish() was not called, and joins it.
  ~ChatOutput() override;

  ChatOutput(const ChatOutput&) = delete;
  ChatOutput& operator=(const ChatOutput&) = delete;

  /// Queues msg for the writer; on overflow drops it, marks the client too slow and aborts the connection.
  void send(const Message& msg) override;

  /// Writes the queue through now, without blocking; the writer thread is woken for what the socket does
  /// not take.
  void flush();

  /// No more output will come: lets the writer send what is queued for up to timeout, then aborts the
  /// connection if it has not finished, and joins the writer.
  void finish(std::chrono::steady_clock::duration timeout);

  /// True once a message did not fit in the outbox.
  bool overflowed() const;

  /// The error that stopped the writer (empty when none did).
  std::error_code write_error() const;

  /// Lines handed to the writer so far.
  std::uint64_t lines_queued() const;

 private:
  friend class ChatOutputBatch;
  friend class DeferredOutputs;
  class DeferredOutputs;

  /// Under mutex_: while the writer is idle, writes what the socket takes of the queue without blocking;
  /// returns true when the writer must be woken for the rest.
  bool write_through() noexcept;
  /// Under mutex_: while the writer is idle, hands the kernel what the socket takes of the queue without
  /// blocking; true when something was written.
  bool write_now() noexcept;
  void write_loop();

  Connection& connection_;
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable writer_done_;
  Outbox outbox_;
  std::uint64_t lines_ = 0;
  std::error_code error_;
  bool overflowed_ = false;
  bool finishing_ = false;
  bool cancelled_ = false;
  bool done_ = false;
  bool writer_sleeping_ = false;  // the writer waits on wake_writer_ and has not been notified yet
  bool writing_ = false;          // the writer is in a write, outside the lock
  bool in_batch_ = false;         // listed by the open ChatOutputBatch of some thread
  bool deferred_ = false;         // listed by a DeferredOutputs; guarded by the room's lock, not mutex_
  bool in_pass_ = false;          // taken from it by a flusher writing now; guarded by the room's lock
  std::jthread writer_;           // last: starts once everything it uses exists, is joined before they go
};

/// While alive, ChatOutput::send on this thread only queues; on destruction every output it touched
/// writes its queue through, so the lines handled in one go leave in one gathered write per client.
/// Whoever opens one holds the room's lock until it is destroyed: that keeps the outputs alive.
class ChatOutputBatch {
 public:
  ChatOutputBatch() noexcept;

  /// A batch whose outputs are not written through on destruction but listed in later, for its flush().
  explicit ChatOutputBatch(DeferredOutputs& later) noexcept;

  ~ChatOutputBatch();
  ChatOutputBatch(const ChatOutputBatch&) = delete;
  ChatOutputBatch& operator=(const ChatOutputBatch&) = delete;

 private:
  std::vector<ChatOutput*> outputs_;
  std::vector<ChatOutput*>* previous_;
  DeferredOutputs* later_ = nullptr;
};

/// Outputs whose queue waits to be written through by a later flush, outside the room's lock. A batch
/// lists what it touched here (the ChatOutputBatch(DeferredOutputs&) constructor); a flusher takes the list
/// in passes (take(), then passed() once written) and writes without the room's lock, so that while one
/// thread writes, the others only queue: everything queued for a client meanwhile leaves in its next write,
/// one write per client however many lines arrived. Every call is made under the room's lock.
class DeferredOutputs {
 public:
  /// True when some output waits.
  bool empty() const noexcept { return outputs_.empty(); }

  /// Moves the waiting outputs into pass (emptied first) and marks them as being written.
  void take(std::vector<ChatOutput*>& pass) noexcept;

  /// The outputs of pass are written: forget() no longer waits for them.
  void passed(const std::vector<ChatOutput*>& pass) noexcept;

  /// Drops output from the list: it is going away, and its writer sends what is queued when it finishes.
  /// Returns false while a flusher is writing it, outside the room's lock: then wait for passed() and ask
  /// again before it may be destroyed.
  bool forget(ChatOutput& output) noexcept;

 private:
  friend class ChatOutputBatch;

  std::vector<ChatOutput*> outputs_;
};

}  // namespace dschat
