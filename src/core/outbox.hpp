#pragma once

#include <cstddef>
#include <deque>

#include "core/message.hpp"

namespace dschat {

/// A client's bounded send queue (DESIGN §3 --max-queue). Holds shared messages, counts unsent bytes,
/// and is drained by the I/O layer with gathered writes. Not thread-safe: the caller locks if needed.
class Outbox {
 public:
  /// An outbox refusing to hold more than max_bytes unsent bytes.
  explicit Outbox(std::size_t max_bytes) noexcept : max_bytes_(max_bytes) {}

  /// Queues msg; returns false and queues nothing when the unsent bytes would pass max_bytes.
  bool push(Message msg);

  /// True when nothing is left to send.
  bool empty() const noexcept { return queue_.empty(); }

  /// Unsent bytes.
  std::size_t bytes() const noexcept { return bytes_; }

  /// The limit given at construction.
  std::size_t max_bytes() const noexcept { return max_bytes_; }

  /// Calls add(const char* data, std::size_t size) for each unsent piece in order, at most max_pieces
  /// (the first one may be the tail of a partly sent message); returns how many it gave.
  template <class Add>
  std::size_t gather(Add&& add, std::size_t max_pieces) const {
    std::size_t given = 0;
    std::size_t skip = front_sent_;
    for (auto it = queue_.begin(); it != queue_.end() && given < max_pieces; ++it, ++given) {
      add((*it)->data() + skip, (*it)->size() - skip);
      skip = 0;
    }
    return given;
  }

  /// Marks n bytes as sent (n <= bytes()), dropping the messages fully sent.
  void consume(std::size_t n) noexcept;

  /// Drops everything queued.
  void clear() noexcept;

 private:
  std::deque<Message> queue_;
  std::size_t bytes_ = 0;
  std::size_t front_sent_ = 0;
  std::size_t max_bytes_;
};

}  // namespace dschat
