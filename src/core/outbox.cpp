#include "core/outbox.hpp"

#include <algorithm>
#include <utility>

namespace dschat {

bool Outbox::push(Message msg) {
  // An empty message has nothing to send; queuing it would leave a piece consume() can never drop.
  if (!msg || msg->empty()) return true;
  // Written as a subtraction so a huge message cannot wrap the sum around (bytes_ <= max_bytes_ always).
  if (msg->size() > max_bytes_ - bytes_) return false;
  if (!head_) {
    head_ = std::make_unique<Block>();
    tail_ = head_.get();
  } else if (tail_slot_ == block_size) {
    tail_->next = std::make_unique<Block>();
    tail_ = tail_->next.get();
    tail_slot_ = 0;
  }
  bytes_ += msg->size();
  tail_->slots[tail_slot_++] = std::move(msg);
  return true;
}

std::size_t Outbox::blocks() const noexcept {
  std::size_t count = 0;
  for (const Block* block = head_.get(); block != nullptr; block = block->next.get())
    ++count;
  return count;
}

void Outbox::consume(std::size_t n) noexcept {
  // A caller reporting more than was queued is a bug elsewhere; clamping keeps the counters consistent.
  n = std::min(n, bytes_);
  bytes_ -= n;
  while (n > 0) {
    Message& front = head_->slots[head_slot_];
    const std::size_t left = front->size() - front_sent_;
    if (n < left) {
      front_sent_ += n;
      return;
    }
    n -= left;
    front.reset();
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
}

void Outbox::clear() noexcept {
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

}  // namespace dschat
