#include "core/outbox.hpp"

#include <algorithm>
#include <utility>

namespace dschat {

bool Outbox::push(Message msg) {
  // An empty message has nothing to send; queuing it would leave a piece consume() can never drop.
  if (!msg || msg->empty()) return true;
  // Written as a subtraction so a huge message cannot wrap the sum around (bytes_ <= max_bytes_ always).
  if (msg->size() > max_bytes_ - bytes_) return false;
  bytes_ += msg->size();
  queue_.push_back(std::move(msg));
  return true;
}

void Outbox::consume(std::size_t n) noexcept {
  // A caller reporting more than was queued is a bug elsewhere; clamping keeps the counters consistent.
  n = std::min(n, bytes_);
  bytes_ -= n;
  while (n > 0) {
    const std::size_t left = queue_.front()->size() - front_sent_;
    if (n < left) {
      front_sent_ += n;
      return;
    }
    n -= left;
    queue_.pop_front();
    front_sent_ = 0;
  }
}

void Outbox::clear() noexcept {
  queue_.clear();
  bytes_ = 0;
  front_sent_ = 0;
}

}  // namespace dschat
