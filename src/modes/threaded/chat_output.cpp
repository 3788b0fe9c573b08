#include "modes/threaded/chat_output.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <asio/error.hpp>
#include <cerrno>
#include <utility>

#include "net/send_queued.hpp"

namespace dschat::threaded {

namespace {

// Pieces per gathered write: a queue built up during a busy moment leaves in few system calls, and the
// array (on the stack of every thread that flushes, where each page touched stays resident) is 4 KiB.
constexpr std::size_t max_pieces = 256;

}  // namespace

ChatOutput::ChatOutput(Connection& connection, std::size_t max_queue)
    : connection_(connection), outbox_(max_queue), writer_([this] { write_loop(); }) {}

ChatOutput::~ChatOutput() {
  cancel();
}

void ChatOutput::cancel() noexcept {
  if (!writer_.joinable()) return;
  {
    const std::scoped_lock lock(mutex_);
    if (phase_ == Phase::open) phase_ = Phase::cancelled;
  }
  wake_writer_.notify_one();
  connection_.abort();  // a write blocked on a peer that does not read must end too
  writer_.join();
}

void ChatOutput::send(const Message& msg) {
  bool wake = false;
  {
    const std::scoped_lock lock(mutex_);
    if (overflowed_ || phase_ != Phase::open) return;
    // Lines queued while another thread flushes wait for its next pass: after a pause (the server
    // descheduled, a burst of reads) the queue can fill before it comes. Offer the kernel what is queued
    // first, and cut the client only if its socket will not take it either.
    if (outbox_.push(msg) || (write_now() && outbox_.push(msg))) return;
    overflowed_ = true;
    // The writer may be blocked writing to this very peer and cannot see the flag; shutdown() never
    // blocks and wakes it (and the reader) at once, so the room's lock is held no longer than a push.
    connection_.abort();
    wake = std::exchange(writer_sleeping_, false);
  }
  // Notified after unlocking, so that the writer does not wake only to block on the mutex.
  if (wake) wake_writer_.notify_one();
}

void ChatOutput::flush() {
  bool wake = false;
  {
    const std::scoped_lock lock(mutex_);
    wake = write_through();
  }
  if (wake) wake_writer_.notify_one();
}

bool ChatOutput::write_through() noexcept {
  if (outbox_.empty()) return false;
  // With the writer idle the calling thread sends the queue itself, in non-blocking gathered writes: no
  // thread has to wake up for a client that keeps up. Only what the socket does not take is left to the
  // writer, whose blocking writes are what may wait for a slow peer.
  write_now();
  if (outbox_.empty() && !error_) return false;
  // A writer that is busy writing takes the rest when it comes back for more; one wake per sleep.
  return std::exchange(writer_sleeping_, false);
}

bool ChatOutput::write_now() noexcept {
  if (writing_ || overflowed_ || error_ || done_) return false;
  std::array<iovec, max_pieces> pieces;  // not zeroed: only the pieces used are written
  const SendResult result = send_queued(connection_.fd(), outbox_, pieces);
  messages_sent_ += result.messages;
  if (result.error) fail(result.error);
  return result.bytes > 0;
}

void ChatOutput::fail(const std::error_code& error) noexcept {
  error_ = error;
  connection_.abort();  // the peer is gone: wake the reader instead of waiting for it
}

void ChatOutput::finish(std::chrono::steady_clock::duration timeout) {
  {
    std::unique_lock lock(mutex_);
    if (phase_ == Phase::open) phase_ = Phase::finishing;
    wake_writer_.notify_one();
    if (!writer_done_.wait_for(lock, timeout, [this] { return done_; })) {
      lock.unlock();
      connection_.abort();
    }
  }
  writer_.join();
}

bool ChatOutput::overflowed() const {
  const std::scoped_lock lock(mutex_);
  return overflowed_;
}

std::error_code ChatOutput::write_error() const {
  const std::scoped_lock lock(mutex_);
  return error_;
}

std::uint64_t ChatOutput::messages_sent() const {
  const std::scoped_lock lock(mutex_);
  return messages_sent_;
}

void ChatOutput::write_loop() {
  std::array<iovec, max_pieces> pieces;
  std::unique_lock lock(mutex_);
  for (;;) {
    // Marked sleeping before every wait, not once per loop: after a wake whose work another thread did
    // meanwhile (the queue written through), it sleeps again and must be woken again.
    while (phase_ == Phase::open && !overflowed_ && !error_ && outbox_.empty()) {
      writer_sleeping_ = true;
      wake_writer_.wait(lock);
    }
    writer_sleeping_ = false;
    if (phase_ == Phase::cancelled || overflowed_ || error_ || outbox_.empty()) break;  // or all sent
    std::size_t count = 0;
    outbox_.gather(
        [&](const char* data, std::size_t size) {
          pieces[count++] = {const_cast<char*>(data), size};
        },
        pieces.size());
    // The pieces point into messages only this thread removes (consume), so the room may keep pushing
    // while the write blocks without the lock.
    writing_ = true;
    lock.unlock();
    msghdr header{};
    header.msg_iov = pieces.data();
    header.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(connection_.fd(), &header, MSG_NOSIGNAL);  // blocks for a slow peer
    const int error = sent < 0 ? errno : 0;
    lock.lock();
    writing_ = false;
    if (sent < 0) {
      if (error == EINTR) continue;
      fail(std::error_code(error, asio::error::get_system_category()));
      break;
    }
    messages_sent_ +=
        dschat::messages_sent(std::span<const iovec>(pieces.data(), count), static_cast<std::size_t>(sent));
    outbox_.consume(static_cast<std::size_t>(sent));
  }
  done_ = true;
  writer_done_.notify_all();
}

}  // namespace dschat::threaded
