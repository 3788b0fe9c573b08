#include "modes/threaded_chat_output.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <asio/buffer.hpp>
#include <asio/write.hpp>
#include <utility>
#include <vector>

namespace dschat {

namespace {

// Pieces per gathered write: a queue built up during a busy moment leaves in few system calls, and the
// array (on every client thread's stack, where each page touched stays resident) is 4 KiB.
constexpr std::size_t kMaxPieces = 256;

// The outputs touched by the batch open on this thread (see ChatOutputBatch), or null.
thread_local std::vector<ChatOutput*>* open_batch = nullptr;

}  // namespace

ChatOutputBatch::ChatOutputBatch() noexcept : previous_(std::exchange(open_batch, &outputs_)) {}

ChatOutputBatch::ChatOutputBatch(DeferredOutputs& later) noexcept : ChatOutputBatch() {
  later_ = &later;
}

ChatOutputBatch::~ChatOutputBatch() {
  open_batch = previous_;
  if (later_ == nullptr) {
    for (ChatOutput* output : outputs_)
      output->flush();
    return;
  }
  for (ChatOutput* output : outputs_) {
    {
      const std::scoped_lock lock(output->mutex_);
      output->in_batch_ = false;  // the next batch that touches it lists it again, and writes it through
    }
    if (!std::exchange(output->deferred_, true)) later_->outputs_.push_back(output);
  }
}

void DeferredOutputs::take(std::vector<ChatOutput*>& pass) noexcept {
  pass.clear();
  pass.swap(outputs_);
  for (ChatOutput* output : pass) {
    output->deferred_ = false;  // a batch that touches it from now on lists it again, for the next pass
    output->in_pass_ = true;
  }
}

void DeferredOutputs::passed(const std::vector<ChatOutput*>& pass) noexcept {
  for (ChatOutput* output : pass)
    output->in_pass_ = false;
}

bool DeferredOutputs::forget(ChatOutput& output) noexcept {
  if (std::exchange(output.deferred_, false)) std::erase(outputs_, &output);
  return !output.in_pass_;
}

ChatOutput::ChatOutput(Connection& connection, std::size_t max_queue)
    : connection_(connection), outbox_(max_queue), writer_([this] { write_loop(); }) {}

ChatOutput::~ChatOutput() {
  if (writer_.joinable()) {
    {
      const std::scoped_lock lock(mutex_);
      cancelled_ = true;  // only reached when finish() was skipped: nobody waits for this output
    }
    wake_writer_.notify_one();
    connection_.abort();  // a write blocked on a peer that does not read must end too
  }
}

void ChatOutput::send(const Message& msg) {
  bool wake = false;
  {
    const std::scoped_lock lock(mutex_);
    if (overflowed_ || finishing_) return;
    // Lines queued while another thread flushes wait for its next pass: after a pause (the server
    // descheduled, a burst of reads) the queue can fill before it comes. Offer the kernel what is queued
    // first, and cut the client only if its socket will not take it either.
    const bool pushed = outbox_.push(msg) || (write_now() && outbox_.push(msg));
    if (!pushed) {
      overflowed_ = true;
      // The writer may be blocked writing to this very peer and cannot see the flag; shutdown() never
      // blocks and wakes it (and the reader) at once, so the room's lock is held no longer than a push.
      connection_.abort();
      wake = std::exchange(writer_sleeping_, false);
    } else {
      ++lines_;
      if (open_batch == nullptr) {
        wake = write_through();
      } else if (!in_batch_) {
        in_batch_ = true;
        open_batch->push_back(this);
      }
    }
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
  in_batch_ = false;
  if (outbox_.empty()) return false;
  // With the writer idle the calling thread sends the queue itself, in non-blocking gathered writes: no
  // thread has to wake up for a client that keeps up. Only what the socket does not take is left to the
  // writer, whose blocking writes are what may wait for a slow peer.
  write_now();
  if (outbox_.empty()) return false;
  // A writer that is busy writing takes the rest when it comes back for more; one wake per sleep.
  return std::exchange(writer_sleeping_, false);
}

bool ChatOutput::write_now() noexcept {
  if (writing_ || overflowed_ || error_) return false;
  std::array<iovec, kMaxPieces> pieces;  // not zeroed: only the pieces used are written
  bool wrote = false;
  while (!outbox_.empty()) {
    std::size_t count = 0;
    std::size_t offered = 0;
    outbox_.gather(
        [&](const char* data, std::size_t size) {
          pieces[count++] = {const_cast<char*>(data), size};
          offered += size;
        },
        kMaxPieces);
    msghdr header{};
    header.msg_iov = pieces.data();
    header.msg_iovlen = count;
    const ssize_t sent =
        ::sendmsg(connection_.socket().native_handle(), &header, MSG_DONTWAIT | MSG_NOSIGNAL);
    // EAGAIN means a full socket buffer; any other error is the writer's to meet and report.
    if (sent <= 0) break;
    outbox_.consume(static_cast<std::size_t>(sent));
    wrote = true;
    if (static_cast<std::size_t>(sent) < offered) break;  // the socket is full
  }
  return wrote;
}

void ChatOutput::finish(std::chrono::steady_clock::duration timeout) {
  {
    std::unique_lock lock(mutex_);
    finishing_ = true;
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

std::uint64_t ChatOutput::lines_queued() const {
  const std::scoped_lock lock(mutex_);
  return lines_;
}

void ChatOutput::write_loop() {
  std::vector<asio::const_buffer> pieces;
  pieces.reserve(kMaxPieces);
  std::unique_lock lock(mutex_);
  for (;;) {
    // Marked sleeping before every wait, not once per loop: after a wake whose work another thread did
    // meanwhile (the queue written through), it sleeps again and must be woken again.
    while (!cancelled_ && !overflowed_ && !finishing_ && outbox_.empty()) {
      writer_sleeping_ = true;
      wake_writer_.wait(lock);
    }
    writer_sleeping_ = false;
    if (cancelled_ || overflowed_ || outbox_.empty()) break;  // cut off, or finishing with all sent
    pieces.clear();
    outbox_.gather([&pieces](const char* data, std::size_t size) { pieces.emplace_back(data, size); },
                   kMaxPieces);
    // The pieces point into messages only this thread removes (consume), so the room may keep pushing
    // while the write blocks without the lock.
    writing_ = true;
    lock.unlock();
    std::error_code error;
    const std::size_t sent = asio::write(connection_.socket(), pieces, error);
    lock.lock();
    writing_ = false;
    outbox_.consume(sent);
    if (error) {
      error_ = error;
      break;
    }
  }
  const bool failed = static_cast<bool>(error_);
  done_ = true;
  writer_done_.notify_all();
  lock.unlock();
  if (failed) connection_.abort();  // the peer is gone: wake the reader instead of waiting for it
}

}  // namespace dschat
