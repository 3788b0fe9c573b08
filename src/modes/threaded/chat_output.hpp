#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/message.hpp"
#include "core/outbox.hpp"
#include "modes/threaded/connection.hpp"

namespace dschat::threaded {

/// One chat member's output: a bounded outbox and a writer thread of its own. Lines are queued (send) and
/// written through without blocking by whichever thread flushes (flush, see SharedRoom); what the socket
/// does not take, the writer thread sends with blocking writes, so a client that stops reading holds up
/// nobody else. When the outbox would pass its limit the client is cut off (abort) and marked too slow.
/// Every member function is thread-safe (one mutex guards all the state).
class ChatOutput {
 public:
  /// Output for connection holding at most max_queue unsent bytes; starts the writer thread.
  ChatOutput(Connection& connection, std::size_t max_queue);

  /// cancel().
  ~ChatOutput();

  ChatOutput(const ChatOutput&) = delete;
  ChatOutput& operator=(const ChatOutput&) = delete;

  /// Queues msg without blocking; on overflow drops it, marks the client too slow and aborts the connection.
  void send(const Message& msg);

  /// Writes the queue through now, without blocking; the writer thread is woken for what the socket does
  /// not take. Does nothing once the writer has finished: the connection may be closed by then.
  void flush();

  /// No more output will come: lets the writer send what is queued for up to timeout, then aborts the
  /// connection if it has not finished, and joins the writer.
  void finish(std::chrono::steady_clock::duration timeout);

  /// Stops the writer without sending what is queued and joins it; nothing after finish().
  void cancel() noexcept;

  /// True once a message did not fit in the outbox.
  bool overflowed() const;

  /// The error that stopped the writing (empty when none did).
  std::error_code write_error() const;

  /// Messages sent completely so far.
  std::uint64_t messages_sent() const;

 private:
  enum class Phase { open, finishing, cancelled };

  /// Under mutex_: while the writer is idle, hands the kernel what the socket takes of the queue without
  /// blocking; true when something was written.
  bool write_now() noexcept;
  /// Under mutex_: write_now(), then true when the writer must be woken for the rest.
  bool write_through() noexcept;
  /// Under mutex_: the writing failed; the writer stops and the reader is woken.
  void fail(const std::error_code& error) noexcept;
  void write_loop();

  Connection& connection_;
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable writer_done_;
  Outbox outbox_;
  std::uint64_t messages_sent_ = 0;
  std::error_code error_;
  Phase phase_ = Phase::open;
  bool overflowed_ = false;
  bool writer_sleeping_ = false;  // the writer waits on wake_writer_ and has not been notified yet
  bool writing_ = false;          // the writer is in a blocking write, outside the lock
  bool done_ = false;             // the writer has finished: nobody writes to the socket any more
  std::jthread writer_;           // last: starts once everything it uses exists, is joined before they go
};

}  // namespace dschat::threaded
