#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "modes/bench/bench.hpp"
#include "modes/bench/delivery_tracker.hpp"
#include "modes/bench/token.hpp"

namespace dschat::bench {

/// What a bench client says to each kind of server, so that one generator measures a line server and the
/// brokers people use for fan-out (NATS, Redis pub/sub) the same way: the same tokens in the same payload
/// bytes, each wrapped in the server's own framing. Receiving needs no parser: every framing puts a
/// message's payload on a line of its own, where find_token() finds it (the framing lines carry no token).
///
/// - line: the payload and LF; the server relays lines (dschat, the floor, course servers).
/// - nats: `CONNECT` and `SUB` to one subject (broadcast, no echo of one's own messages) or one subject per
///   client (echo: each client hears itself), then `PUB subject N` + payload + CRLF; deliveries are
///   `MSG subject sid N` + payload.
/// - redis: RESP3 (`HELLO 3`), so one connection both subscribes and publishes; broadcast `SUBSCRIBE` one
///   channel and `PUBLISH` to it (deliveries are `>3 message channel payload` pushes, the sender's own
///   included); echo sends `ECHO`.
struct Wire {
  BenchProto proto = BenchProto::line;
  Fanout fanout = Fanout::others;

  /// What client index sends right after connecting, before anything else (empty for line servers).
  std::string greeting(std::size_t index) const;

  /// Appends one message of client index to out: the token with filler up to payload bytes, framed.
  void append(std::string& out, std::size_t index, const Token& token, std::size_t payload) const;

  /// Bytes whose arrival shows that a greeted client is in: its subscription is in place (nats: the PONG
  /// answering the greeting's PING; redis: the subscribe confirmation, or HELLO's reply for echo); for line
  /// servers, any byte (a chat server's welcome).
  std::string_view joined_marker() const noexcept;

  /// True when a sender also receives its own broadcast messages (Redis has no option against it; they are
  /// not counted, though the server's CPU per delivery then includes one delivery more per message).
  bool hears_itself() const noexcept { return proto == BenchProto::redis && fanout == Fanout::others; }

  /// The NATS subject client index subscribes and publishes to: one for all (broadcast), or its own (echo).
  std::string subject(std::size_t index) const;

  /// A keepalive request from the server that must be answered (NATS's PING), else empty.
  std::string_view server_ping() const noexcept;
  /// The answer to server_ping().
  std::string_view ping_answer() const noexcept;
};

/// The name of proto as `--proto` spells it.
std::string_view proto_name(BenchProto proto) noexcept;

/// Finds marker in a stream handed over in chunks, across chunk boundaries, keeping fewer than
/// marker.size() bytes between chunks.
class MarkerScan {
 public:
  /// True once marker has appeared in the chunks fed so far (an empty marker: at the first chunk).
  bool feed(std::string_view marker, std::string_view chunk);
  /// What the last feed() returned.
  bool found() const noexcept { return found_; }

 private:
  std::string tail_;
  bool found_ = false;
};

}  // namespace dschat::bench
