// The writing half of a Session. What send() queues during one turn of the loop (a read chunk fanned out
// to the room) leaves after that turn in one gathered write. Only a client whose socket buffer is full gets
// a writer coroutine, which waits for it to read; an idle or keeping-up client holds no writer at all.

#include <sys/uio.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>

#include "modes/async/asio_compat.hpp"
#include "modes/async/session.hpp"
#include "net/endpoint.hpp"
#include "net/send_queued.hpp"

namespace dschat::async {
namespace {

// Pieces per sendmsg: the kernel's limit (IOV_MAX). Asio's write_some would split at 64, and after a busy
// turn a client can have hundreds of lines queued: one system call each 64 of them was most of the cost
// of a flat-out broadcast.
constexpr std::size_t max_pieces = 1024;

}  // namespace

void Session::send(const Message& msg) {
  // Before its TLS handshake is complete a client is not a member: nothing is sent to it.
  if (failed_ || (tls_ && !tls_opened_)) return;
  const bool was_empty = outbox_.empty();
  if (!outbox_.push(msg)) {
    // The outbox may hold lines its writer has not had a turn to offer the kernel yet: one burst of reads
    // (after the loop was held up, or one large read) fans out before any writer runs. Offer them now, and
    // cut the client only if its socket will not take them either.
    write_now();
    if (failed_) return;
    if (!outbox_.push(msg)) {
      fail(context_.too_slow);
      return;
    }
  }
  if (was_empty) schedule_flush();
}

void Session::schedule_flush() {
  if (flush_scheduled_ || writing_ || closing_) return;
  flush_scheduled_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->flush(); });
}

void Session::flush() {
  flush_scheduled_ = false;
  if (failed_ || writing_ || closing_) return;  // the writer, or flush_for_close(), has it
  if (!write_now() && !failed_) start_writer();
}

void Session::start_writer() {
  writing_ = true;
  asio::co_spawn(socket_.get_executor(), write_loop(),
                 [self = shared_from_this()](const std::exception_ptr& error) {
                   if (error) self->fail("internal error while writing");
                   self->writing_ = false;
                   if (self->closing_) self->timer_.cancel();  // wakes flush_for_close()
                 });
}

Awaitable<void> Session::write_loop() {
  while (!failed_ && has_output()) {
    const auto [error] = co_await socket_.async_wait(asio::socket_base::wait_write, use_tuple);
    if (error) {
      fail(disconnect_reason(error));  // after fail() it is operation_aborted: the reason is already set
      break;
    }
    write_now();
  }
}

Awaitable<void> Session::flush_for_close(Clock::time_point deadline) {
  timer_.expires_at(deadline);
  // What the kernel does not take now is left to the writer, as while reading; this only bounds the wait.
  if (!failed_ && !writing_ && !write_now() && !failed_) start_writer();
  while (writing_) {
    const auto [error] = co_await timer_.async_wait(use_tuple);  // the writer cancels it when it ends
    if (!error && writing_) {
      // The client has not taken its queue within the budget: stop waiting for it.
      fail("flush timed out");
      timer_.expires_at(Clock::time_point::max());
    }
  }
}

bool Session::write_now() {
  // The socket is non-blocking: gathered writes take what the kernel accepts now, without the round trip
  // through the loop that an async_write costs. With TLS the stream encrypts them first.
  std::array<iovec, max_pieces> pieces;  // 16 KiB, on the thread's stack: write_now() is not a coroutine
  const int fd = socket_.native_handle();
  const SendResult result = tls_ ? tls_->write(fd, outbox_) : send_queued(fd, outbox_, pieces);
  stats_.lines_out += result.messages;
  if (result.error) fail(tls_ ? tls_->reason(result.error) : disconnect_reason(result.error));
  if (!result.drained()) return false;
  outbox_.release();  // caught up: an idle client keeps no block (the next push allocates one, once a turn)
  return true;
}

}  // namespace dschat::async
