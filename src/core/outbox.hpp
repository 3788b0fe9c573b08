#pragma once

#include <array>
#include <cstddef>
#include <memory>

#include "core/message.hpp"

namespace dschat {

/// A client's bounded send queue (--max-queue, docs/protocol.md). Holds shared messages, counts unsent
/// bytes, and is drained by the I/O layer with gathered writes. Not thread-safe: the caller locks if needed.
///
/// The messages sit in a chain of small blocks, so what it holds follows what is queued now, not the
/// largest burst ever: a drained outbox keeps one block (a few dozen bytes per message slot), and most
/// clients of a server, idle most of the time, cost no more than that.
class Outbox {
 public:
  /// An outbox refusing to hold more than max_bytes unsent bytes.
  explicit Outbox(std::size_t max_bytes) noexcept : max_bytes_(max_bytes) {}
  ~Outbox() { clear(); }

  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// Queues msg; returns false and queues nothing when the unsent bytes would pass max_bytes.
  bool push(Message msg);

  /// True when nothing is left to send.
  bool empty() const noexcept { return bytes_ == 0; }  // empty messages are never queued

  /// Unsent bytes.
  std::size_t bytes() const noexcept { return bytes_; }

  /// The limit given at construction.
  std::size_t max_bytes() const noexcept { return max_bytes_; }

  /// Blocks held now, queued or kept for reuse (0 before the first message).
  std::size_t blocks() const noexcept;

  /// Calls add(const char* data, std::size_t size) for each unsent piece in order, at most max_pieces
  /// (the first one may be the tail of a partly sent message); returns how many it gave.
  template <class Add>
  std::size_t gather(Add&& add, std::size_t max_pieces) const {
    std::size_t given = 0;
    std::size_t skip = front_sent_;
    std::size_t slot = head_slot_;
    for (const Block* block = head_.get(); block != nullptr && given < max_pieces;
         block = block->next.get()) {
      const std::size_t end = block == tail_ ? tail_slot_ : block_size;
      for (; slot < end && given < max_pieces; ++slot, ++given) {
        const Message& msg = block->slots[slot];
        add(msg->data() + skip, msg->size() - skip);
        skip = 0;
      }
      slot = 0;
    }
    return given;
  }

  /// Marks n bytes as sent (n <= bytes()), dropping the messages fully sent.
  void consume(std::size_t n) noexcept;

  /// Drops everything queued and gives the memory back.
  void clear() noexcept;

 private:
  // 8 messages, 136 bytes: small enough that a drained outbox keeps little, large enough that a burst
  // allocates once per 8 messages.
  static constexpr std::size_t block_size = 8;

  struct Block {
    std::array<Message, block_size> slots;
    std::unique_ptr<Block> next;
  };

  std::unique_ptr<Block> head_;  // the oldest block; queued messages run from head_slot_ to tail_slot_
  Block* tail_ = nullptr;        // the newest block, where push() writes
  std::size_t head_slot_ = 0;
  std::size_t tail_slot_ = 0;
  std::size_t bytes_ = 0;
  std::size_t front_sent_ = 0;
  std::size_t max_bytes_;
};

}  // namespace dschat
