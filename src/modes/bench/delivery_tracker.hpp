#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "modes/bench/histogram.hpp"
#include "modes/bench/token.hpp"

namespace dschat::bench {

/// Who should receive each message.
enum class Fanout {
  others,  ///< broadcast: every client but the sender
  self,    ///< echo: the sender only
};

/// True when a line from client sender is meant for client receiver.
constexpr bool meant_for(Fanout fanout, std::size_t receiver, std::size_t sender) noexcept {
  return fanout == Fanout::self ? receiver == sender : receiver != sender;
}

/// What a load run counted; deliveries and latencies only for measured messages.
struct DeliveryCounts {
  std::uint64_t sent = 0;              ///< every load message written, warm-up included
  std::uint64_t measured_sent = 0;     ///< messages stamped at or after the measurement start
  std::uint64_t received = 0;          ///< every expected receipt, warm-up included
  std::uint64_t delivered = 0;         ///< first receipts of measured messages by expected receivers
  std::uint64_t duplicates = 0;        ///< a receiver got the same (sender, seq) again
  std::uint64_t order_violations = 0;  ///< a receiver got a sender's seq after a later one
  std::uint64_t unexpected = 0;        ///< receipts by a client that should not get them, unknown senders
  std::uint64_t last_delivery_ns = 0;  ///< receive time of the latest counted delivery
};

/// The bookkeeping of a broadcast or echo run, without I/O: which receipts count, per-receiver
/// per-sender order, latencies, and each sender's window of messages in flight (acknowledged when its
/// designated receiver gets them).
class DeliveryTracker {
 public:
  /// clients connections of which the first `senders` send (senders <= clients), spread round robin
  /// over `servers` servers (client i on server i % servers).
  DeliveryTracker(std::size_t clients, std::size_t senders, Fanout fanout, std::size_t servers = 1);

  /// The server client is connected to.
  std::size_t server_of(std::size_t client) const noexcept { return client % servers_; }

  /// Receivers each message should reach: clients - 1 (others) or 1 (self).
  std::size_t receivers_per_message() const noexcept;

  /// The client whose receipt of sender's messages acknowledges them: the next client, or itself.
  std::size_t designated_receiver(std::size_t sender) const noexcept;

  /// Messages from now on (stamped at or after from_ns) are measured.
  void begin_measurement(std::uint64_t from_ns) noexcept { measure_from_ns_ = from_ns; }

  /// Whether a message stamped sent_ns is measured.
  bool measured(std::uint64_t sent_ns) const noexcept { return sent_ns >= measure_from_ns_; }

  /// Counts a message about to be written; returns its sequence number.
  std::uint64_t on_sent(std::size_t sender, std::uint64_t sent_ns) noexcept;

  /// Counts a load token received by receiver at now_ns. Returns true when it acknowledged something
  /// for its sender (the sender's window opened).
  bool on_received(std::size_t receiver, const Token& token, std::uint64_t now_ns) noexcept;

  /// Messages of sender written but not yet acknowledged by its designated receiver.
  std::uint64_t in_flight(std::size_t sender) const noexcept;

  /// Deliveries the measured messages should make.
  std::uint64_t expected() const noexcept { return counts_.measured_sent * receivers_per_message(); }

  const DeliveryCounts& counts() const noexcept { return counts_; }
  const Histogram& latency() const noexcept { return latency_; }
  /// Latencies of deliveries between two clients of one server (with several servers).
  const Histogram& same_server_latency() const noexcept { return same_server_; }
  /// Latencies of deliveries from a client of one server to a client of another.
  const Histogram& cross_server_latency() const noexcept { return cross_server_; }

 private:
  std::size_t clients_;
  std::size_t senders_;
  Fanout fanout_;
  std::size_t servers_;
  std::uint64_t measure_from_ns_ = UINT64_MAX;
  std::vector<std::uint64_t> next_seq_;  ///< per sender: the next sequence number to send
  std::vector<std::uint64_t> acked_;     ///< per sender: sequences below this were acknowledged
  std::vector<std::uint64_t> seen_;      ///< [receiver * senders + sender]: highest seq seen + 1, 0 none
  DeliveryCounts counts_;
  Histogram latency_;
  Histogram same_server_;
  Histogram cross_server_;
};

}  // namespace dschat::bench
