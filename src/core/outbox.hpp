#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/message.hpp"

namespace dschat {

/// A piece of a shared Message with a few bytes of its own in front: a WebSocket frame is a header of 2 to
/// 10 bytes and a line of a Message formatted once for the whole room, so that every client's frame reuses
/// that text instead of copying it (docs/protocol.md, Browsers).
struct PrefixedSlice {
  Message text;                   ///< holds the slice; shared with the room and the other clients
  std::uint32_t begin = 0;        ///< where the slice starts in *text
  std::uint32_t size = 0;         ///< bytes of the slice
  std::array<char, 10> prefix{};  ///< sent before the slice; only the first prefix_size bytes count
  std::uint8_t prefix_size = 0;
};

// What an outbox needs of what it holds: its size in bytes, and its bytes as one or two pieces.
inline std::size_t outbox_size(const Message& msg) noexcept {
  return msg ? msg->size() : 0;
}
inline std::size_t outbox_size(const PrefixedSlice& slice) noexcept {
  return slice.prefix_size + slice.size;
}

/// Calls add(data, size) for the bytes of msg after the first skip, one piece, unless max_pieces is 0;
/// returns the pieces given.
template <class Add>
std::size_t outbox_pieces(const Message& msg, std::size_t skip, Add& add, std::size_t max_pieces) {
  if (max_pieces == 0) return 0;
  add(msg->data() + skip, msg->size() - skip);
  return 1;
}

/// The same for a PrefixedSlice: the rest of its prefix, then its slice (at most max_pieces pieces).
template <class Add>
std::size_t outbox_pieces(const PrefixedSlice& slice, std::size_t skip, Add& add, std::size_t max_pieces) {
  std::size_t given = 0;
  if (skip < slice.prefix_size && given < max_pieces) {
    add(slice.prefix.data() + skip, slice.prefix_size - skip);
    ++given;
    skip = 0;
  } else {
    skip -= slice.prefix_size;
  }
  if (slice.size > skip && given < max_pieces) {
    add(slice.text->data() + slice.begin + skip, slice.size - skip);
    ++given;
  }
  return given;
}

/// A client's bounded send queue (--max-queue, docs/protocol.md). Holds shared messages (Item: a Message,
/// or a PrefixedSlice of one), counts unsent bytes, and is drained by the I/O layer with gathered writes.
/// Not thread-safe: the caller locks if needed.
///
/// The messages sit in a chain of small blocks, so what it holds follows what is queued now, not the
/// largest burst ever: a drained outbox keeps one block (a few dozen bytes per message slot) until
/// release(), which the servers call once a client has caught up, so an idle client holds none.
template <class Item>
class BasicOutbox {
 public:
  /// An outbox refusing to hold more than max_bytes unsent bytes.
  explicit BasicOutbox(std::size_t max_bytes) noexcept : max_bytes_(max_bytes) {}
  ~BasicOutbox() { clear(); }

  BasicOutbox(const BasicOutbox&) = delete;
  BasicOutbox& operator=(const BasicOutbox&) = delete;

  /// Queues item; returns false and queues nothing when the unsent bytes would pass max_bytes.
  bool push(Item item);

  /// True when nothing is left to send.
  bool empty() const noexcept { return bytes_ == 0; }  // empty messages are never queued

  /// Unsent bytes.
  std::size_t bytes() const noexcept { return bytes_; }

  /// The limit given at construction.
  std::size_t max_bytes() const noexcept { return max_bytes_; }

  /// Blocks held now, queued or kept for reuse (0 before the first message).
  std::size_t blocks() const noexcept;

  /// Calls add(const char* data, std::size_t size) for each unsent piece in order, at most max_pieces
  /// (the first one may be the tail of a partly sent message; a PrefixedSlice is two pieces); returns how
  /// many it gave.
  template <class Add>
  std::size_t gather(Add&& add, std::size_t max_pieces) const {
    std::size_t given = 0;
    std::size_t skip = front_sent_;
    std::size_t slot = head_slot_;
    for (const Block* block = head_.get(); block != nullptr && given < max_pieces;
         block = block->next.get()) {
      const std::size_t end = block == tail_ ? tail_slot_ : block_size;
      for (; slot < end && given < max_pieces; ++slot) {
        given += outbox_pieces(block->slots[slot], skip, add, max_pieces - given);
        skip = 0;
      }
      slot = 0;
    }
    return given;
  }

  /// Marks n bytes as sent (n <= bytes()), dropping the messages fully sent; returns how many those were.
  std::size_t consume(std::size_t n) noexcept;

  /// Drops everything queued and gives the memory back.
  void clear() noexcept;

  /// When nothing is queued, gives back the block a drained outbox keeps for reuse: a client that has
  /// caught up holds no block until its next message (idle clients are most of a server's clients).
  void release() noexcept {
    if (bytes_ == 0) clear();
  }

 private:
  // 8 messages, 136 bytes for an Outbox: small enough that a drained outbox keeps little, large enough
  // that a burst allocates once per 8 messages.
  static constexpr std::size_t block_size = 8;

  struct Block {
    std::array<Item, block_size> slots;
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

/// The send queue of a TCP client: whole Messages.
using Outbox = BasicOutbox<Message>;

/// The send queue of a WebSocket client: frames, each a header and a line of a shared Message.
using FrameOutbox = BasicOutbox<PrefixedSlice>;

extern template class BasicOutbox<Message>;
extern template class BasicOutbox<PrefixedSlice>;

}  // namespace dschat
