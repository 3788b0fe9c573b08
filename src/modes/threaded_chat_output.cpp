#include "modes/threaded_chat_output.hpp"

#include <asio/buffer.hpp>
#include <asio/write.hpp>
#include <vector>

namespace dschat {

namespace {
// Pieces per gathered write: enough to empty a typical queue in one system call, small enough for IOV_MAX.
constexpr std::size_t kMaxPieces = 64;
}  // namespace

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
  const std::scoped_lock lock(mutex_);
  if (overflowed_ || finishing_) return;
  if (!outbox_.push(msg)) {
    overflowed_ = true;
    // The writer may be blocked writing to this very peer and cannot see the flag; shutdown() never
    // blocks and wakes it (and the reader) at once, so the room's lock is held no longer than a push.
    connection_.abort();
  } else {
    ++lines_;
  }
  wake_writer_.notify_one();
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
    wake_writer_.wait(lock, [this] { return cancelled_ || overflowed_ || finishing_ || !outbox_.empty(); });
    if (cancelled_ || overflowed_ || outbox_.empty()) break;  // cut off, or finishing with all sent
    pieces.clear();
    outbox_.gather([&pieces](const char* data, std::size_t size) { pieces.emplace_back(data, size); },
                   kMaxPieces);
    // The pieces point into messages only this thread removes (consume), so the room may keep pushing
    // while the write blocks without the lock.
    lock.unlock();
    std::error_code error;
    const std::size_t sent = asio::write(connection_.socket(), pieces, error);
    lock.lock();
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
