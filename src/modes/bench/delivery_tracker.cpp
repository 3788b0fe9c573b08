#include "modes/bench/delivery_tracker.hpp"

#include <algorithm>

namespace dschat::bench {

DeliveryTracker::DeliveryTracker(std::size_t clients, std::size_t senders, Fanout fanout, std::size_t servers)
    : clients_(clients),
      senders_(std::min(senders, clients)),
      fanout_(fanout),
      servers_(std::max<std::size_t>(servers, 1)),
      next_seq_(senders_, 0),
      acked_(senders_, 0),
      seen_(clients_ * senders_, 0) {}

std::size_t DeliveryTracker::receivers_per_message() const noexcept {
  return fanout_ == Fanout::self ? 1 : clients_ - 1;
}

std::size_t DeliveryTracker::designated_receiver(std::size_t sender) const noexcept {
  return fanout_ == Fanout::self ? sender : (sender + 1) % clients_;
}

std::uint64_t DeliveryTracker::on_sent(std::size_t sender, std::uint64_t sent_ns) noexcept {
  ++counts_.sent;
  if (measured(sent_ns)) ++counts_.measured_sent;
  return next_seq_[sender]++;
}

bool DeliveryTracker::on_received(std::size_t receiver, const Token& token, std::uint64_t now_ns) noexcept {
  const std::size_t sender = token.sender;
  if (sender >= senders_ || receiver >= clients_ || !meant_for(fanout_, receiver, sender) ||
      token.seq >= next_seq_[sender]) {
    ++counts_.unexpected;  // a token we never sent, or one relayed to the wrong client
    return false;
  }
  std::uint64_t& seen = seen_[receiver * senders_ + sender];
  if (token.seq + 1 == seen) {
    ++counts_.duplicates;
    return false;
  }
  if (token.seq + 1 < seen) {
    ++counts_.order_violations;  // still a delivery: late, not lost
  } else {
    seen = token.seq + 1;
  }
  ++counts_.received;
  if (measured(token.sent_ns)) {
    ++counts_.delivered;
    counts_.last_delivery_ns = std::max(counts_.last_delivery_ns, now_ns);
    const std::uint64_t latency = now_ns > token.sent_ns ? now_ns - token.sent_ns : 0;
    latency_.record(latency);
    if (servers_ > 1)
      (server_of(receiver) == server_of(sender) ? same_server_ : cross_server_).record(latency);
  }
  if (receiver != designated_receiver(sender) || token.seq < acked_[sender]) return false;
  acked_[sender] = token.seq + 1;
  return true;
}

std::uint64_t DeliveryTracker::in_flight(std::size_t sender) const noexcept {
  return next_seq_[sender] - acked_[sender];
}

}  // namespace dschat::bench
