// The writing half of a WebSession: the Session's write path in small. Frames wait in a FrameOutbox
// (bounded by --max-queue) and leave in gathered, non-blocking writes after the turn that queued them: a
// room line as its frame header and the room's own text, shared with every other member, never copied.
// As for a Session, a burst costs one posted flush; only a member whose socket buffer is full gets a writer
// coroutine, which waits for it to read.

#include <sys/uio.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>

#include "modes/async/asio_compat.hpp"
#include "modes/async/web_session.hpp"
#include "net/endpoint.hpp"
#include "net/send_queued.hpp"

namespace dschat::async {

void WebSession::queue(const Message& bytes) {
  PrefixedSlice frame;
  frame.size = static_cast<std::uint32_t>(bytes->size());  // control frames: at most 131 bytes
  frame.text = bytes;
  push(std::move(frame));
}

bool WebSession::push(PrefixedSlice frame) {
  if (failed_) return false;
  if (outbox_size(frame) > outbox_.max_bytes() - outbox_.bytes()) {
    // As in Session::send(): offer the kernel what is queued before cutting the client off.
    write_now();
    if (failed_) return false;
  }
  if (!outbox_.push(std::move(frame))) {
    fail(context_.too_slow);
    return false;
  }
  schedule_flush();
  return true;
}

void WebSession::schedule_flush() {
  if (flush_scheduled_ || writing_) return;
  flush_scheduled_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->flush_now(); });
}

void WebSession::flush_now() {
  flush_scheduled_ = false;
  // close() may have flushed and closed the socket since; the writer, if any, has it.
  if (failed_ || writing_ || !socket_.is_open()) return;
  if (!write_now() && !failed_) start_writer();
}

void WebSession::start_writer() {
  if (writing_) return;
  writing_ = true;
  asio::co_spawn(socket_.get_executor(), write_loop(),
                 [self = shared_from_this()](const std::exception_ptr& error) {
                   if (error) {
                     self->fail("internal error while writing");
                     self->writing_ = false;
                   }
                 });
}

Awaitable<void> WebSession::write_loop() {
  // Started when the socket would not take everything: wait for it to drain before writing again.
  while (!failed_) {
    const auto [error] = co_await socket_.async_wait(asio::socket_base::wait_write, use_tuple);
    if (error) {
      fail(disconnect_reason(error));
      break;
    }
    if (write_now() || failed_) break;
  }
  writing_ = false;  // here, not in the completion handler: a send() after this point starts a new writer
}

Awaitable<void> WebSession::flush(Clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  // Writes here rather than waiting for the writer, which may still be waiting for its turn; if both wait
  // for the socket, both wake and the second finds nothing left to write.
  Timer timer(socket_.get_executor());
  timer.expires_at(deadline);
  while (!failed_ && !write_now() && !failed_) {
    const auto woke = co_await (socket_.async_wait(asio::socket_base::wait_write, use_tuple) ||
                                timer.async_wait(use_tuple));
    if (woke.index() == 1) {
      fail("flush timed out");  // the client has not taken its queue within the budget
    } else if (const auto [error] = std::get<0>(woke); error) {
      fail(disconnect_reason(error));
    }
  }
}

bool WebSession::write_now() {
  // As many pieces as the kernel takes (IOV_MAX), as Session::write_now() does: 512 frames a write, each
  // its header and its line. 16 KiB on the thread's stack: write_now() is not a coroutine.
  // With TLS the stream encrypts them first, as it does for a Session.
  std::array<iovec, 1024> pieces;
  const int fd = socket_.native_handle();
  const SendResult result = tls_ ? tls_->write(fd, outbox_) : send_queued(fd, outbox_, pieces);
  if (result.error) fail(tls_ ? tls_->reason(result.error) : disconnect_reason(result.error));
  return result.drained();
}

}  // namespace dschat::async
