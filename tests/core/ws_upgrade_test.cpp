#include "core/ws_upgrade.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_request.hpp"
#include "core/websocket.hpp"

using dschat::WsUpgradeResponse;
using dschat::WsUpgradeState;

namespace {

constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 section 1.3

struct Read {
  WsUpgradeState state = WsUpgradeState::need_more;
  std::string error;
  std::size_t used = 0;  // bytes of the stream the reader took
};

Read read(const std::vector<std::string_view>& chunks) {
  WsUpgradeResponse response(key);
  Read out;
  for (const auto chunk : chunks) {
    const std::size_t used = response.feed(chunk);
    CHECK(used <= chunk.size());
    if (response.state() == WsUpgradeState::need_more) CHECK(used == chunk.size());
    out.used += used;
  }
  out.state = response.state();
  out.error = response.error();
  return out;
}

/// Reads stream whole, then checks that it reads the same split at every byte and in two pieces at every
/// position; returns the whole result.
Read read_every_split(std::string_view stream) {
  const Read whole = read({stream});
  const auto same = [&](const Read& r) {
    return r.state == whole.state && r.error == whole.error && r.used == whole.used;
  };
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(stream.substr(i, 1));
  CHECK(same(read(bytes)));
  for (std::size_t i = 0; i <= stream.size(); ++i)
    CHECK(same(read({stream.substr(0, i), stream.substr(i)})));
  return whole;
}

std::string answer(std::string_view status, std::string_view headers) {
  return std::string(status) + "\r\n" + std::string(headers) + "\r\n";
}

const std::string good_headers =
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

}  // namespace

TEST_CASE("ws_upgrade_request asks for GET /ws with Host, the page's own Origin, the key and version 13") {
  CHECK(dschat::ws_upgrade_request("127.0.0.1:8080", key) ==
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: "
        "13\r\n\r\n");
}

TEST_CASE("WsUpgradeResponse::feed accepts the 101 of RFC 6455 section 1.3 and leaves the frames after it") {
  const std::string head = answer("HTTP/1.1 101 Switching Protocols", good_headers);
  const std::string frames = dschat::ws_frame(dschat::WsOpcode::text, "welcome");
  const Read r = read_every_split(head + frames);
  CHECK(r.state == WsUpgradeState::accepted);
  CHECK(r.used == head.size());
  CHECK(r.error.empty());
}

TEST_CASE("WsUpgradeResponse::feed takes header names in any case, bare LF and token lists") {
  const Read r = read_every_split(
      "HTTP/1.1 101\nupgrade: WebSocket\nCONNECTION: keep-alive, Upgrade\nsec-websocket-accept:  "
      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \nServer: x\n\n");
  CHECK(r.state == WsUpgradeState::accepted);
}

TEST_CASE("WsUpgradeResponse::feed needs more until the empty line") {
  const Read r = read_every_split(answer("HTTP/1.1 101 Switching Protocols", good_headers).substr(0, 60));
  CHECK(r.state == WsUpgradeState::need_more);
}

TEST_CASE("WsUpgradeResponse::feed refuses another status, naming it") {
  const Read r = read_every_split("HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\nforbidden\n");
  CHECK(r.state == WsUpgradeState::refused);
  CHECK(r.error == "the server answered HTTP/1.1 403 Forbidden");
  CHECK(read_every_split("HTTP/1.1 1010 Odd\r\n\r\n").state == WsUpgradeState::refused);
  CHECK(read_every_split("SSH-2.0-OpenSSH\r\n").error == "the server answered SSH-2.0-OpenSSH");
  // Control characters of the peer's text never reach the terminal.
  CHECK(read_every_split("\x1b[2J\r\n").error == "the server answered ?[2J");
}

TEST_CASE("WsUpgradeResponse::feed refuses a 101 with a wrong, missing or repeated accept value") {
  CHECK(read_every_split(answer("HTTP/1.1 101 OK",
                                "Upgrade: websocket\r\nConnection: upgrade\r\n"
                                "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"))
            .error == "the server's Sec-WebSocket-Accept does not match the key");
  CHECK(read_every_split(answer("HTTP/1.1 101 OK", "Upgrade: websocket\r\nConnection: upgrade\r\n")).error ==
        "the server's 101 has no Sec-WebSocket-Accept");
  CHECK(read_every_split(answer("HTTP/1.1 101 OK", good_headers + "Sec-WebSocket-Accept: x\r\n")).state ==
        WsUpgradeState::refused);
}

TEST_CASE("WsUpgradeResponse::feed refuses a 101 without Upgrade: websocket or Connection: upgrade") {
  const std::string accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  CHECK(read_every_split(answer("HTTP/1.1 101 OK", "Connection: upgrade\r\n" + accept)).state ==
        WsUpgradeState::refused);
  CHECK(
      read_every_split(answer("HTTP/1.1 101 OK", "Upgrade: h2c\r\nConnection: upgrade\r\n" + accept)).state ==
      WsUpgradeState::refused);
  CHECK(read_every_split(answer("HTTP/1.1 101 OK", "Upgrade: websocket\r\n" + accept)).state ==
        WsUpgradeState::refused);
  CHECK(read_every_split(answer("HTTP/1.1 101 OK", "no colon here\r\n")).error ==
        "the server's answer has a header line without a colon");
}

TEST_CASE("WsUpgradeResponse::feed refuses a head over 8 KiB without holding more") {
  const std::string head = "HTTP/1.1 101 OK\r\nX: " + std::string(dschat::max_http_head, 'a') + "\r\n\r\n";
  WsUpgradeResponse response(key);
  const std::size_t used = response.feed(head);
  CHECK(response.state() == WsUpgradeState::refused);
  CHECK(used == dschat::max_http_head + 1);
  CHECK(response.error() == "the server's answer has a head over 8192 bytes");
}
