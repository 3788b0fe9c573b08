#include "modes/bench/wire.hpp"

#include <fmt/format.h>

#include <iterator>

#include "core/nats_protocol.hpp"

namespace dschat::bench {

namespace {

/// The subject (NATS) or channel (Redis) every broadcast client subscribes and publishes to.
constexpr std::string_view room = "dschat.bench";

/// A RESP bulk string.
void append_bulk(std::string& out, std::string_view text) {
  fmt::format_to(std::back_inserter(out), "${}\r\n", text.size());
  out.append(text).append("\r\n");
}

}  // namespace

std::string_view proto_name(BenchProto proto) noexcept {
  switch (proto) {
    case BenchProto::line:
      return "line";
    case BenchProto::nats:
      return "nats";
    case BenchProto::redis:
      return "redis";
  }
  return "?";
}

std::string Wire::subject(std::size_t index) const {
  return fanout == Fanout::self ? fmt::format("{}.{}", room, index) : std::string(room);
}

std::string Wire::greeting(std::size_t index) const {
  const bool echo = fanout == Fanout::self;
  switch (proto) {
    case BenchProto::line:
      return {};
    case BenchProto::nats: {
      // The broker answers the PING after it has handled the SUB: the PONG is the joined marker.
      std::string out;
      NatsConnectOptions connect;
      connect.name = "dschat bench";
      connect.echo = echo;
      append_nats_connect(out, connect);
      append_nats_sub(out, subject(index), 1);
      append_nats_ping(out);
      return out;
    }
    case BenchProto::redis:
      return echo ? std::string("HELLO 3\r\n") : fmt::format("HELLO 3\r\nSUBSCRIBE {}\r\n", room);
  }
  return {};
}

void Wire::append(std::string& out, std::size_t index, const Token& token, std::size_t payload) const {
  if (proto == BenchProto::line) {
    append_message(out, token, payload);
    return;
  }
  std::string body;
  append_message(body, token, payload);
  body.pop_back();  // the LF: the framing says where the payload ends
  const bool echo = fanout == Fanout::self;
  if (proto == BenchProto::nats) {
    append_nats_pub(out, subject(index), body);
    return;
  }
  if (echo) {
    out.append("*2\r\n");
    append_bulk(out, "ECHO");
  } else {
    out.append("*3\r\n");
    append_bulk(out, "PUBLISH");
    append_bulk(out, room);
  }
  append_bulk(out, body);
}

std::string_view Wire::joined_marker() const noexcept {
  switch (proto) {
    case BenchProto::line:
      return {};
    case BenchProto::nats:
      return "PONG\r\n";
    case BenchProto::redis:
      // HELLO's reply map ends with its "modules" array, empty; SUBSCRIBE's push names the command.
      return fanout == Fanout::self ? std::string_view("modules\r\n*0\r\n")
                                    : std::string_view("subscribe\r\n");
  }
  return {};
}

std::string_view Wire::server_ping() const noexcept {
  return proto == BenchProto::nats ? "PING\r" : "";
}

std::string_view Wire::ping_answer() const noexcept {
  return proto == BenchProto::nats ? "PONG\r\n" : "";
}

bool MarkerScan::feed(std::string_view marker, std::string_view chunk) {
  if (found_) return true;
  if (marker.empty()) {
    found_ = !chunk.empty();
    return found_;
  }
  tail_.append(chunk);
  if (tail_.find(marker) != std::string::npos) {
    found_ = true;
    std::string().swap(tail_);
    return true;
  }
  if (tail_.size() >= marker.size()) tail_.erase(0, tail_.size() - (marker.size() - 1));
  return false;
}

}  // namespace dschat::bench
