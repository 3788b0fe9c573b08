#include "core/http_request.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

using dschat::HttpParseState;
using dschat::HttpRequest;
using dschat::HttpRequestParser;
using namespace std::string_view_literals;

namespace {

struct Parsed {
  HttpParseState state = HttpParseState::need_more;
  int status = 0;
  std::size_t used = 0;  // bytes of the stream the parser took
  HttpRequest request;
};

Parsed parse(const std::vector<std::string_view>& chunks) {
  HttpRequestParser parser;
  Parsed out;
  for (const auto chunk : chunks) {
    const std::size_t used = parser.feed(chunk);
    CHECK(used <= chunk.size());
    if (parser.state() == HttpParseState::need_more) CHECK(used == chunk.size());
    out.used += used;
  }
  out.state = parser.state();
  out.status = parser.status();
  out.request = parser.request();
  return out;
}

bool same(const Parsed& a, const Parsed& b) {
  const HttpRequest& x = a.request;
  const HttpRequest& y = b.request;
  return a.state == b.state && a.status == b.status && a.used == b.used && x.method == y.method &&
         x.target == y.target && x.path == y.path && x.version == y.version && x.host == y.host &&
         x.origin == y.origin && x.websocket_key == y.websocket_key &&
         x.websocket_version == y.websocket_version && x.upgrade_websocket == y.upgrade_websocket &&
         x.connection_upgrade == y.connection_upgrade && x.has_body == y.has_body;
}

/// Parses stream whole, then checks that it parses the same split at every byte, in two pieces at every
/// position and (for streams up to 400 bytes) in three pieces at every pair; returns the whole result.
Parsed parse_every_split(std::string_view stream) {
  const Parsed whole = parse({stream});
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(stream.substr(i, 1));
  CHECK(same(parse(bytes), whole));
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    CHECK(same(parse({stream.substr(0, i), stream.substr(i)}), whole));
    if (stream.size() > 400) continue;
    for (std::size_t j = i; j <= stream.size(); j += 3)
      CHECK(same(parse({stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)}), whole));
  }
  return whole;
}

/// Checks that stream is refused with status, however it is split.
void check_error(std::string_view stream, int status) {
  CAPTURE(std::string(stream));
  const Parsed parsed = parse_every_split(stream);
  CHECK(parsed.state == HttpParseState::error);
  CHECK(parsed.status == status);
}

constexpr std::string_view chromium_upgrade =
    "GET /ws HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: http://127.0.0.1:8080\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

std::string request_with(std::string_view headers) {
  return "GET / HTTP/1.1\r\nHost: h\r\n" + std::string(headers) + "\r\n";
}

}  // namespace

TEST_CASE("HttpRequestParser::feed reads a browser's WebSocket handshake") {
  const Parsed parsed = parse_every_split(chromium_upgrade);
  REQUIRE(parsed.state == HttpParseState::complete);
  CHECK(parsed.used == chromium_upgrade.size());
  const HttpRequest& request = parsed.request;
  CHECK(request.method == "GET");
  CHECK(request.target == "/ws");
  CHECK(request.path == "/ws");
  CHECK(request.version == "HTTP/1.1");
  CHECK(request.host == "127.0.0.1:8080");
  CHECK(request.origin == "http://127.0.0.1:8080");
  CHECK(request.websocket_key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(request.websocket_version == "13");
  CHECK(request.upgrade_websocket);
  CHECK(request.connection_upgrade);
  CHECK_FALSE(request.has_body);
}

TEST_CASE("HttpRequestParser::feed stops at the end of the head and leaves the bytes after it") {
  const std::string stream = std::string(chromium_upgrade) +
                             "\x81\x85"
                             "frame";
  const Parsed parsed = parse_every_split(stream);
  CHECK(parsed.state == HttpParseState::complete);
  CHECK(parsed.used == chromium_upgrade.size());
  HttpRequestParser parser;
  CHECK(parser.feed(stream) == chromium_upgrade.size());
  CHECK(parser.feed("more") == 0);
}

TEST_CASE("HttpRequestParser::feed takes bare LF line ends and skips empty lines before the request") {
  const Parsed parsed = parse_every_split("\r\n\nGET /app.js?v=2 HTTP/1.0\nhost: example.com\n\n");
  REQUIRE(parsed.state == HttpParseState::complete);
  CHECK(parsed.request.target == "/app.js?v=2");
  CHECK(parsed.request.path == "/app.js");
  CHECK(parsed.request.version == "HTTP/1.0");
  CHECK(parsed.request.host == "example.com");
  CHECK_FALSE(parsed.request.origin);
  CHECK_FALSE(parsed.request.upgrade_websocket);
}

TEST_CASE("HttpRequestParser::feed reads header names in any case and trims the values") {
  const Parsed parsed = parse_every_split(
      "GET / HTTP/1.1\r\nhOsT: \t example.com:81 \t\r\nCONNECTION:keep-alive ,  UPGRADE\r\n"
      "uPgRaDe: h2c, WebSocket\r\nsec-websocket-key:  k  \r\nSEC-WEBSOCKET-VERSION: 13\r\nX-Other: "
      "✓\r\n\r\n");
  REQUIRE(parsed.state == HttpParseState::complete);
  CHECK(parsed.request.host == "example.com:81");
  CHECK(parsed.request.connection_upgrade);
  CHECK(parsed.request.upgrade_websocket);
  CHECK(parsed.request.websocket_key == "k");
  CHECK(parsed.request.websocket_version == "13");
}

TEST_CASE("HttpRequestParser::feed parses any method: the router refuses it") {
  const std::string_view head = "POST /ws HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  const Parsed parsed = parse_every_split(std::string(head) + "abc");
  REQUIRE(parsed.state == HttpParseState::complete);
  CHECK(parsed.request.method == "POST");
  CHECK(parsed.request.has_body);
  CHECK(parsed.used == head.size());
}

TEST_CASE("HttpRequestParser::feed tells whether a body was announced") {
  CHECK_FALSE(parse({request_with("Content-Length: 000\r\n")}).request.has_body);
  CHECK(parse({request_with("Content-Length: 10\r\n")}).request.has_body);
  CHECK(parse({request_with("Transfer-Encoding: chunked\r\n")}).request.has_body);
  check_error(request_with("Content-Length: -1\r\n"), 400);
  check_error(request_with("Content-Length: \r\n"), 400);
}

TEST_CASE("HttpRequestParser::feed refuses a bad request line with 400, another HTTP version with 505") {
  for (const std::string_view line :
       {"GET  / HTTP/1.1"sv, "GET / HTTP/1.1 "sv, "GET /"sv, "GET"sv, " GET / HTTP/1.1"sv, "GET / http/1.1"sv,
        "GET / HTTP/1.10"sv, "GET / HTTP/1"sv, "G(T / HTTP/1.1"sv, "GET * HTTP/1.1"sv,
        "GET http://h/ HTTP/1.1"sv, "GET /a\x7f HTTP/1.1"sv, "GET /\xc3\xa9 HTTP/1.1"sv,
        "GET /\r/ HTTP/1.1"sv}) {
    check_error(std::string(line) + "\r\nHost: h\r\n\r\n", 400);
  }
  check_error("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
  check_error("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
}

TEST_CASE("HttpRequestParser::feed refuses bad header lines with 400") {
  for (const std::string_view line :
       {"NoColon"sv, ": empty name"sv, "Space : before colon"sv, "Tab\t: before colon"sv, "Bad(name): x"sv,
        "X: nul \0 inside"sv, "X: bare \r inside"sv, "X: del \x7f"sv, "X: esc \x1b"sv}) {
    CAPTURE(std::string(line));
    check_error(request_with(std::string(line) + "\r\n"), 400);
  }
}

TEST_CASE("HttpRequestParser::feed refuses obs-fold continuation lines with 400") {
  check_error(request_with("X-Long: one\r\n two\r\n"), 400);
  check_error(request_with("X-Long: one\r\n\ttwo\r\n"), 400);
}

TEST_CASE("HttpRequestParser::feed refuses a missing, empty, bad or second Host with 400") {
  check_error("GET / HTTP/1.1\r\nOrigin: http://h\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost:\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  const Parsed ipv6 = parse_every_split("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
  CHECK(ipv6.state == HttpParseState::complete);
  CHECK(ipv6.request.host == "[::1]:8080");
}

TEST_CASE("HttpRequestParser::feed refuses a second Origin or WebSocket header with 400") {
  check_error(request_with("Origin: http://a\r\nOrigin: http://a\r\n"), 400);
  check_error(request_with("Sec-WebSocket-Key: a\r\nsec-websocket-key: a\r\n"), 400);
  check_error(request_with("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n"), 400);
}

TEST_CASE("HttpRequestParser::feed accepts a head of 8 KiB and refuses one byte more with 431") {
  const std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  const std::string exact = start + std::string(dschat::max_http_head - start.size() - end.size(), 'p') + end;
  REQUIRE(exact.size() == dschat::max_http_head);
  const Parsed fits = parse_every_split(exact);
  CHECK(fits.state == HttpParseState::complete);
  CHECK(fits.used == exact.size());
  const std::string over =
      start + std::string(dschat::max_http_head - start.size() - end.size() + 1, 'p') + end;
  check_error(over, 431);
  // A head that never ends is refused as soon as it passes the limit.
  HttpRequestParser parser;
  const std::string endless(dschat::max_http_head + 100, 'x');
  CHECK(parser.feed(endless) == dschat::max_http_head + 1);
  CHECK(parser.state() == HttpParseState::error);
  CHECK(parser.status() == 431);
  CHECK(parser.feed("\r\n\r\n") == 0);
}

TEST_CASE("http_list_has finds a token in a comma-separated list, in any case") {
  CHECK(dschat::http_list_has("keep-alive, Upgrade", "upgrade"));
  CHECK(dschat::http_list_has("UPGRADE", "upgrade"));
  CHECK(dschat::http_list_has(" a ,\tupgrade\t, b", "upgrade"));
  CHECK_FALSE(dschat::http_list_has("upgraded, keep-alive", "upgrade"));
  CHECK_FALSE(dschat::http_list_has("up grade", "upgrade"));
  CHECK_FALSE(dschat::http_list_has("", "upgrade"));
  CHECK_FALSE(dschat::http_list_has(",,", "upgrade"));
}

TEST_CASE("websocket_key_valid takes exactly the base64 of 16 bytes") {
  CHECK(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
  CHECK(dschat::websocket_key_valid("AAAAAAAAAAAAAAAAAAAAAA=="));
  CHECK(dschat::websocket_key_valid("+/+/+/+/+/+/+/+/+/+/+w=="));
  CHECK_FALSE(dschat::websocket_key_valid(""));
  CHECK_FALSE(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ="));
  CHECK_FALSE(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ==="));
  CHECK_FALSE(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ=a"));
  CHECK_FALSE(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25jZ==="));
  CHECK_FALSE(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25j-Q=="));
  CHECK_FALSE(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQAA"));
  CHECK_FALSE(dschat::websocket_key_valid("dGhlIHNhbXBsZSBub25jZXM3"));  // 18 bytes, no padding
}
