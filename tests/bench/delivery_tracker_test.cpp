#include "modes/bench/delivery_tracker.hpp"

#include <doctest/doctest.h>

using dschat::bench::DeliveryTracker;
using dschat::bench::Fanout;
using dschat::bench::Token;

namespace {

Token load(std::uint32_t sender, std::uint64_t seq, std::uint64_t sent_ns) {
  return Token{'b', sender, seq, sent_ns};
}

}  // namespace

TEST_CASE("DeliveryTracker broadcast: every other client should get each message") {
  DeliveryTracker tracker(4, 2, Fanout::others);
  CHECK(tracker.receivers_per_message() == 3);
  CHECK(tracker.designated_receiver(0) == 1);
  CHECK(tracker.designated_receiver(1) == 2);
  tracker.begin_measurement(100);
  CHECK(tracker.on_sent(0, 50) == 0);   // warm-up: not measured
  CHECK(tracker.on_sent(0, 150) == 1);  // measured
  CHECK(tracker.expected() == 3);
  CHECK(tracker.in_flight(0) == 2);

  CHECK_FALSE(tracker.on_received(2, load(0, 0, 50), 60));  // a warm-up delivery, not the designated one
  CHECK(tracker.on_received(1, load(0, 1, 150), 170));      // designated: acknowledges both
  CHECK(tracker.in_flight(0) == 0);
  CHECK_FALSE(tracker.on_received(2, load(0, 1, 150), 180));
  CHECK_FALSE(tracker.on_received(3, load(0, 1, 150), 250));
  CHECK_FALSE(tracker.on_received(0, load(0, 1, 150), 250));  // its own line back: unexpected

  const auto& counts = tracker.counts();
  CHECK(counts.sent == 2);
  CHECK(counts.measured_sent == 1);
  CHECK(counts.received == 4);
  CHECK(counts.delivered == 3);
  CHECK(counts.unexpected == 1);
  CHECK(counts.last_delivery_ns == 250);
  CHECK(tracker.latency().count() == 3);
  CHECK(tracker.latency().min() == 20);
  CHECK(tracker.latency().max() == 100);
}

TEST_CASE("DeliveryTracker counts order violations and duplicates per receiver and sender") {
  DeliveryTracker tracker(3, 3, Fanout::others);
  tracker.begin_measurement(0);
  for (int i = 0; i < 3; ++i)
    tracker.on_sent(0, 10);
  tracker.on_sent(1, 10);
  tracker.on_received(1, load(0, 0, 10), 20);
  tracker.on_received(1, load(0, 2, 10), 20);
  tracker.on_received(1, load(0, 1, 10), 20);  // after 2: out of order, still delivered
  tracker.on_received(1, load(0, 2, 10), 20);  // again: duplicate
  tracker.on_received(2, load(0, 1, 10), 20);  // another receiver keeps its own order
  tracker.on_received(2, load(1, 0, 10), 20);  // and each sender its own
  tracker.on_received(2, load(0, 7, 10), 20);  // never sent
  tracker.on_received(2, load(9, 0, 10), 20);  // no such sender
  const auto& counts = tracker.counts();
  CHECK(counts.order_violations == 1);
  CHECK(counts.duplicates == 1);
  CHECK(counts.unexpected == 2);
  CHECK(counts.delivered == 5);
  CHECK(tracker.expected() == 8);
}

TEST_CASE("DeliveryTracker echo: only the sender should get its message back") {
  DeliveryTracker tracker(3, 3, Fanout::self);
  CHECK(tracker.receivers_per_message() == 1);
  CHECK(tracker.designated_receiver(2) == 2);
  tracker.begin_measurement(0);
  tracker.on_sent(2, 1000);
  CHECK(tracker.in_flight(2) == 1);
  CHECK_FALSE(tracker.on_received(1, load(2, 0, 1000), 1500));  // someone else's
  CHECK(tracker.on_received(2, load(2, 0, 1000), 1600));
  CHECK(tracker.in_flight(2) == 0);
  CHECK(tracker.counts().delivered == 1);
  CHECK(tracker.counts().unexpected == 1);
  CHECK(tracker.latency().max() == 600);
}

TEST_CASE("DeliveryTracker before begin_measurement measures nothing") {
  DeliveryTracker tracker(2, 1, Fanout::others);
  tracker.on_sent(0, 5);
  tracker.on_received(1, load(0, 0, 5), 9);
  CHECK(tracker.expected() == 0);
  CHECK(tracker.counts().delivered == 0);
  CHECK(tracker.counts().received == 1);
  CHECK(tracker.in_flight(0) == 0);
}

TEST_CASE("DeliveryTracker with several servers: same-server and cross-server latencies apart") {
  // 6 clients round robin over 3 servers: clients 0 and 3 on server 0, 1 and 4 on 1, 2 and 5 on 2.
  DeliveryTracker tracker(6, 2, Fanout::others, 3);
  CHECK(tracker.server_of(0) == 0);
  CHECK(tracker.server_of(3) == 0);
  CHECK(tracker.server_of(4) == 1);
  tracker.begin_measurement(0);
  tracker.on_sent(0, 100);
  for (std::size_t receiver = 1; receiver < 6; ++receiver)
    tracker.on_received(receiver, load(0, 0, 100), 100 + 1000 * receiver);
  CHECK(tracker.latency().count() == 5);
  CHECK(tracker.same_server_latency().count() == 1);  // client 3 only
  CHECK(tracker.same_server_latency().max() == 3000);
  CHECK(tracker.cross_server_latency().count() == 4);
  CHECK(tracker.cross_server_latency().min() == 1000);

  // One server: no split.
  DeliveryTracker single(3, 1, Fanout::others);
  single.begin_measurement(0);
  single.on_sent(0, 10);
  single.on_received(1, load(0, 0, 10), 20);
  CHECK(single.latency().count() == 1);
  CHECK(single.same_server_latency().count() == 0);
  CHECK(single.cross_server_latency().count() == 0);
}
