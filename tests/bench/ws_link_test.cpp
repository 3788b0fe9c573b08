#include "modes/bench/ws_link.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_request.hpp"
#include "core/websocket.hpp"

using dschat::WsDecoder;
using dschat::WsEvent;
using dschat::WsEventKind;
using dschat::WsOpcode;
using dschat::bench::WsLink;
using dschat::bench::WsLinkState;

namespace {

constexpr std::string_view host = "127.0.0.1:8080";

/// The request a link sends, as the server's parser reads it.
dschat::HttpRequest request_of(const WsLink& link) {
  dschat::HttpRequestParser parser;
  CHECK(parser.feed(link.request()) == link.request().size());
  REQUIRE(parser.state() == dschat::HttpParseState::complete);
  return parser.request();
}

/// The server's 101 for link's request.
std::string accept_answer(const WsLink& link) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         dschat::ws_accept_key(*request_of(link).websocket_key) + "\r\n\r\n";
}

/// What the server reads from bytes a client sent: "T<text>", "P<ping>", "O<pong>", "C<code>".
std::vector<std::string> server_reads(std::string_view bytes) {
  WsDecoder decoder(1 << 20);
  std::vector<std::string> out;
  decoder.feed(bytes, [&](const WsEvent& event) {
    if (event.kind == WsEventKind::close) {
      out.push_back("C" + std::to_string(event.code));
    } else {
      const char tag = event.kind == WsEventKind::text   ? 'T'
                       : event.kind == WsEventKind::ping ? 'P'
                       : event.kind == WsEventKind::pong ? 'O'
                                                         : '?';
      out.push_back(tag + std::string(event.data));
    }
    return true;
  });
  return out;
}

/// What a link makes of the server's stream fed in the given chunks.
struct Outcome {
  std::vector<std::string> lines;
  std::string replies;
  WsLinkState state = WsLinkState::upgrading;
  std::string error;
};

Outcome feed(WsLink& link, const std::vector<std::string_view>& chunks) {
  Outcome out;
  for (const auto chunk : chunks) {
    link.feed(chunk, [&](std::string_view line) { out.lines.emplace_back(line); });
    out.replies += link.take_replies();
  }
  out.state = link.state();
  out.error = link.error();
  return out;
}

/// Checks that a new link makes of stream (built from its request by make) what it makes of it whole,
/// however the stream is split: at every byte and in two pieces at every position. Returns the whole outcome
/// with the replies as the server reads them.
template <class Make>
std::pair<Outcome, std::vector<std::string>> feed_every_split(Make make) {
  WsLink whole_link(host, 7);
  const std::string made = make(whole_link);
  const std::string_view stream = made;
  const Outcome whole = feed(whole_link, {stream});
  const auto same = [&](const Outcome& o) {
    // Masks differ between links of one seed only if the order of frames differs: compare what they say.
    return o.lines == whole.lines && o.state == whole.state && o.error == whole.error &&
           server_reads(o.replies) == server_reads(whole.replies);
  };
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(stream.substr(i, 1));
  WsLink by_byte(host, 7);
  CHECK(same(feed(by_byte, bytes)));
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    WsLink split(host, 7);
    CHECK(same(feed(split, {stream.substr(0, i), stream.substr(i)})));
  }
  return {whole, server_reads(whole.replies)};
}

}  // namespace

TEST_CASE("WsLink::request is an upgrade the server accepts: its own origin, a valid key, version 13") {
  const WsLink link(host, 1);
  const auto request = request_of(link);
  CHECK(request.method == "GET");
  CHECK(request.path == "/ws");
  CHECK(request.host == host);
  CHECK(request.origin == "http://127.0.0.1:8080");
  CHECK(request.upgrade_websocket);
  CHECK(request.connection_upgrade);
  CHECK(request.websocket_version == "13");
  REQUIRE(request.websocket_key);
  CHECK(dschat::websocket_key_valid(*request.websocket_key));
  CHECK(*request_of(WsLink(host, 2)).websocket_key != *request.websocket_key);
}

TEST_CASE("WsLink::feed opens on the 101, hands out each text message as a line and answers pings") {
  const auto [outcome, replies] = feed_every_split([](const WsLink& link) {
    return accept_answer(link) + dschat::ws_frame(WsOpcode::text, "* welcome") + dschat::ws_ping_frame("p1") +
           dschat::ws_frame(WsOpcode::text, "<ann> hi") + dschat::ws_frame(WsOpcode::pong, "") +
           dschat::ws_frame(WsOpcode::text, std::string(200, 'x'));
  });
  CHECK(outcome.state == WsLinkState::open);
  CHECK(outcome.lines == std::vector<std::string>{"* welcome", "<ann> hi", std::string(200, 'x')});
  CHECK(replies == std::vector<std::string>{"Op1"});
}

TEST_CASE("WsLink::feed ends on the server's close and answers it with the same code") {
  const auto [outcome, replies] = feed_every_split([](const WsLink& link) {
    return accept_answer(link) + dschat::ws_frame(WsOpcode::text, "* server shutting down") +
           dschat::ws_close_frame(dschat::ws_close::going_away, "bye") +
           dschat::ws_frame(WsOpcode::text, "late");
  });
  CHECK(outcome.state == WsLinkState::ended);
  CHECK(outcome.lines == std::vector<std::string>{"* server shutting down"});
  CHECK(outcome.error == "the server closed the WebSocket (1001 bye)");
  CHECK(replies == std::vector<std::string>{"C1001"});
}

TEST_CASE("WsLink::feed ends on a refused upgrade, naming the server's status") {
  const auto [outcome, replies] = feed_every_split(
      [](const WsLink&) { return std::string("HTTP/1.1 403 Forbidden\r\n\r\nforbidden\n"); });
  CHECK(outcome.state == WsLinkState::ended);
  CHECK(outcome.lines.empty());
  CHECK(outcome.error == "WebSocket upgrade refused: the server answered HTTP/1.1 403 Forbidden");
  CHECK(replies.empty());
}

TEST_CASE("WsLink::feed ends with 1002 on a masked server frame") {
  const auto [outcome, replies] = feed_every_split([](const WsLink& link) {
    return accept_answer(link) + dschat::ws_client_frame(WsOpcode::text, "masked", {1, 2, 3, 4});
  });
  CHECK(outcome.state == WsLinkState::ended);
  CHECK(outcome.error == "the server broke the WebSocket protocol: masked server frame");
  CHECK(replies == std::vector<std::string>{"C1002"});
}

TEST_CASE("WsLink::append_lines sends each line as one masked text frame, with fresh masks") {
  WsLink link(host, 3);
  std::string out;
  link.append_lines(out, "one\ntwo\n");
  link.append_lines(out, "three");
  link.append_lines(out, "");
  CHECK(server_reads(out) == std::vector<std::string>{"Tone", "Ttwo", "Tthree"});
  std::string same_twice;
  link.append_lines(same_twice, "aaaa\naaaa\n");
  // Frame header (2 bytes), mask (4), payload (4): the masked payloads differ as the masks do.
  CHECK(same_twice.substr(2, 8) != same_twice.substr(12, 8));
}
