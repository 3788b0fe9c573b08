#pragma once

// The one write path of both chat servers: what an Outbox holds leaves in gathered, non-blocking sendmsg
// calls, as much as the socket takes now. Whoever calls it owns the outbox for the call (its thread or
// its lock); nothing here waits.

#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <system_error>

#include "core/outbox.hpp"

namespace dschat {

/// What one send_queued() call did.
struct SendResult {
  std::size_t bytes = 0;  ///< bytes the kernel took (and the outbox dropped)
  std::size_t messages =
      0;  ///< queued items sent completely (a message is one line or a batch of notices; a frame one line)
  std::error_code error;  ///< a real failure (EPIPE, ECONNRESET…); a full socket is not one
  bool full = false;      ///< the socket took less than offered: wait for it to become writable

  /// True when the outbox is empty: neither a full socket nor an error stopped the writing.
  bool drained() const noexcept { return !error && !full; }
};

/// Writes what outbox holds to the connected socket fd without blocking (MSG_DONTWAIT, no SIGPIPE), up to
/// pieces.size() pieces per system call (a Message is one, a WebSocket frame two: its header and its
/// line), until the outbox is empty, the socket is full or a write fails. pieces is the caller's scratch
/// space: its size bounds the stack or memory a thread spends on it. Made for Outbox and FrameOutbox.
template <class Item>
SendResult send_queued(int fd, BasicOutbox<Item>& outbox, std::span<iovec> pieces) noexcept;

/// Messages completed when written bytes of pieces (gathered from an Outbox) went out: each piece ends
/// a message, the first one possibly the rest of a message begun earlier.
std::size_t messages_sent(std::span<const iovec> pieces, std::size_t written) noexcept;

}  // namespace dschat
