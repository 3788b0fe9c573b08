#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat_room.hpp"
#include "core/nats_protocol.hpp"
#include "core/relay.hpp"
#include "log/connection_logger.hpp"
#include "modes/async/io_types.hpp"
#include "modes/serve_options.hpp"

namespace dschat::async {

/// The async server's link to the other servers of its room (--relay; docs/cluster.md): a NATS client on
/// the server's one event loop that carries the room's Relay envelopes. It connects, and reconnects with
/// backoff and jitter forever (a broker down at start is not fatal); pings the broker and drops the link
/// after two missed PONGs; queues outgoing envelopes in a bounded, aged queue (--relay-buffer, 10 s) that
/// never makes the room wait; and shows what the others send, and outages, to the room.
class RelayLink final : public RoomRelay {
 public:
  using Clock = std::chrono::steady_clock;

  /// A link for room; nothing happens before start(). room must outlive the link.
  RelayLink(Executor executor, const RelayOptions& options, const ConnectionLog& log, ChatRoom& room);

  /// Starts connecting and the heartbeat clock.
  void start();

  /// Publishes bye (when the link is up, for at most a second), then closes: every coroutine ends.
  void stop(std::string_view reason);

  std::string guest_name(std::uint64_t guest) const override;
  void joined(std::uint64_t guest) override;
  void said(std::uint64_t guest, std::string_view text) override;
  void acted(std::uint64_t guest, std::string_view text) override;
  bool claim(std::uint64_t guest, std::string_view name) override;
  void left(std::uint64_t guest, std::string_view reason) override;
  RelayWho who() const override;
  std::string holder(std::string_view name) const override;

 private:
  struct Queued {
    std::string payload;
    Clock::time_point at;
  };

  Awaitable<void> connect_loop();
  /// One connection, from connect to loss; false when it never came up.
  Awaitable<bool> connection();
  Awaitable<void> read_loop();
  Awaitable<void> write_loop();
  Awaitable<void> ping_loop();
  Awaitable<void> tick_loop();
  /// Handles what the broker sent; false on a protocol error.
  bool on_bytes(std::string_view bytes);
  void on_up();
  void on_down(const std::string& why);
  /// Moves the relay's outbox into the queue and wakes the writer.
  void flush_outbox();
  /// Drops what is too old or past --relay-buffer.
  void prune(Clock::time_point now);
  void show(std::vector<RelayEffect>& effects);
  void outage_notices(Clock::time_point now);
  void wake_writer();
  void check_conflicts();
  /// Runs a local event into the relay and queues what it publishes; false (logged) when it threw.
  template <class Call>
  bool guarded(Call&& call) noexcept;

  Executor executor_;
  const RelayOptions& options_;
  const ConnectionLog& log_;
  ChatRoom& room_;
  Relay relay_;
  std::string subject_;
  std::string address_;  // nats://HOST:PORT, no credentials
  Socket socket_;
  Timer wake_;     // the writer sleeps on it while there is nothing to write
  Timer ticker_;   // the relay's heartbeats and timeouts
  Timer backoff_;  // between connection attempts
  Timer pinger_;
  NatsDecoder decoder_;
  std::vector<char> read_buffer_;
  std::string control_;  // PING, PONG, CONNECT, SUB: written before the queue
  std::deque<Queued> queue_;
  std::size_t queued_bytes_ = 0;
  std::chrono::milliseconds ping_period_;
  unsigned pings_out_ = 0;
  bool handshaking_ = false;
  bool up_ = false;
  bool ever_up_ = false;
  bool stopping_ = false;
  bool conn_over_ = false;  // one of the connection's loops ended: the others end too
  Clock::time_point down_since_{};
  bool outage_told_ = false;
  Clock::time_point restored_due_{};
  bool restored_pending_ = false;
  std::uint64_t dropped_lines_ = 0;  // chat lines dropped from the queue during this outage
  std::uint64_t dropped_total_ = 0;
  std::uint64_t conflicts_logged_ = 0;
  unsigned failures_ = 0;  // connection attempts failed in a row
  std::string down_reason_;
};

}  // namespace dschat::async
