#include "core/outbox.hpp"

#include <algorithm>
#include <utility>

namespace dschat {

template <class Item>
bool BasicOutbox<Item>::push(Item item) {
  // An empty message has nothing to send; queuing it would leave a piece consume() can never drop.
  const std::size_t size = outbox_size(item);
  if (size == 0) return true;
  // Written as a subtraction so a huge message cannot wrap the sum around (bytes_ <= max_bytes_ always).
  if (size > max_bytes_ - bytes_) return false;
  if (!head_) {
    head_ = std::make_unique<Block>();
    tail_ = head_.get();
  } else if (tail_slot_ == block_size) {
    tail_->next = std::make_unique<Block>();
    tail_ = tail_->next.get();
    tail_slot_ = 0;
  }
  bytes_ += size;
  tail_->slots[tail_slot_++] = std::move(item);
  return true;
}

template <class Item>
std::size_t BasicOutbox<Item>::blocks() const noexcept {
  std::size_t count = 0;
  for (const Block* block = head_.get(); block != nullptr; block = block->next.get())
    ++count;
  return count;
}

template <class Item>
std::size_t BasicOutbox<Item>::consume(std::size_t n) noexcept {
  // A caller reporting more than was queued is a bug elsewhere; clamping keeps the counters consistent.
  n = std::min(n, bytes_);
  bytes_ -= n;
  std::size_t dropped = 0;
  while (n > 0) {
    Item& front = head_->slots[head_slot_];
    const std::size_t left = outbox_size(front) - front_sent_;
    if (n < left) {
      front_sent_ += n;
      return dropped;
    }
    n -= left;
    front = Item{};
    ++dropped;
    front_sent_ = 0;
    if (++head_slot_ == block_size && head_.get() != tail_) {
      head_ = std::move(head_->next);  // a block fully sent is given back
      head_slot_ = 0;
    }
  }
  if (bytes_ == 0) {
    // Drained: the one block left is reused from its start.
    head_slot_ = 0;
    tail_slot_ = 0;
  }
  return dropped;
}

template <class Item>
void BasicOutbox<Item>::clear() noexcept {
  // One block at a time: the chain can be long (max_bytes of one-byte lines), and letting each block's
  // destructor free the next would recurse once per block.
  while (head_)
    head_ = std::move(head_->next);
  tail_ = nullptr;
  head_slot_ = 0;
  tail_slot_ = 0;
  bytes_ = 0;
  front_sent_ = 0;
}

template class BasicOutbox<Message>;
template class BasicOutbox<PrefixedSlice>;

}  // namespace dschat
