#include "core/websocket.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using dschat::WsDecoder;
using dschat::WsEvent;
using dschat::WsEventKind;
using dschat::WsOpcode;
namespace ws_close = dschat::ws_close;
using namespace std::string_view_literals;

namespace {

// An event as text: "T<text>", "P<ping>", "O<pong>", "C<code>:<reason>", "L" (too long), "E<code>"
// (error); unambiguous and readable in failures.
using Events = std::vector<std::string>;

std::string describe(const WsEvent& event) {
  switch (event.kind) {
    case WsEventKind::text:
      return "T" + std::string(event.data);
    case WsEventKind::ping:
      return "P" + std::string(event.data);
    case WsEventKind::pong:
      return "O" + std::string(event.data);
    case WsEventKind::close:
      return "C" + std::to_string(event.code) + ":" + std::string(event.data);
    case WsEventKind::too_long:
      return "L";
    case WsEventKind::error:
      CHECK_FALSE(event.data.empty());
      return "E" + std::to_string(event.code);
    case WsEventKind::none:
      break;
  }
  return "?";
}

Events decode(std::size_t max_message, const std::vector<std::string_view>& chunks,
              dschat::WsRole role = dschat::WsRole::server) {
  WsDecoder decoder(max_message, role);
  Events events;
  for (const auto chunk : chunks) {
    decoder.feed(chunk, [&](const WsEvent& event) {
      events.push_back(describe(event));
      return true;
    });
    CHECK(decoder.buffered() <= max_message + 125);
  }
  return events;
}

/// Checks that stream decodes to expected however it is split: whole, at every byte, in two pieces at
/// every position, and in three pieces at every pair of positions (for streams of up to 300 bytes).
void check_every_split(std::string_view stream, const Events& expected, std::size_t max_message = 4096,
                       dschat::WsRole role = dschat::WsRole::server) {
  CHECK(decode(max_message, {stream}, role) == expected);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(stream.substr(i, 1));
  CHECK(decode(max_message, bytes, role) == expected);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    CHECK(decode(max_message, {stream.substr(0, i), stream.substr(i)}, role) == expected);
    if (stream.size() > 300) continue;
    for (std::size_t j = i; j <= stream.size(); ++j)
      CHECK(decode(max_message, {stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)}, role) ==
            expected);
  }
}

/// check_every_split for a client reading a server's frames.
void check_client_every_split(std::string_view stream, const Events& expected) {
  check_every_split(stream, expected, 4096, dschat::WsRole::client);
}

constexpr std::array<std::uint8_t, 4> mask{0x37, 0xFA, 0x21, 0x3D};
constexpr std::array<std::uint8_t, 4> zero_mask{0, 0, 0, 0};

std::string text(std::string_view payload, bool fin = true) {
  return dschat::ws_client_frame(WsOpcode::text, payload, mask, fin);
}
std::string more(std::string_view payload, bool fin = true) {
  return dschat::ws_client_frame(WsOpcode::continuation, payload, mask, fin);
}
std::string control(WsOpcode opcode, std::string_view payload) {
  return dschat::ws_client_frame(opcode, payload, mask);
}
std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return payload.append(reason);
}

}  // namespace

TEST_CASE("WsDecoder::feed decodes the masked text frame of RFC 6455 section 5.7") {
  check_every_split("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"sv, {"THello"});
}

TEST_CASE("WsDecoder::feed decodes text, ping and pong frames in a row, each with its payload") {
  check_every_split(
      text("hello") + control(WsOpcode::ping, "p1") + text("") + control(WsOpcode::pong, "") + text("уя σ ✓"),
      {"Thello", "Pp1", "T", "O", "Tуя σ ✓"});
}

TEST_CASE("WsDecoder::feed joins fragments and reports control frames sent between them") {
  check_every_split(text("Hel", false) + control(WsOpcode::ping, "x") + more("l", false) +
                        control(WsOpcode::pong, "y") + more("", false) + more("o") + text("next"),
                    {"Px", "Oy", "THello", "Tnext"});
}

TEST_CASE("WsDecoder::feed checks UTF-8 across fragments split inside a code point") {
  // ✓ is E2 9C 93, 😀 is F0 9F 98 80: each cut between fragments, and the stream cut everywhere.
  check_every_split(text("a\xE2", false) + more("\x9C", false) +
                        more("\x93"
                             "b\xF0\x9F",
                             false) +
                        more("\x98\x80"),
                    {"Ta✓b😀"});
}

TEST_CASE("WsDecoder::feed accepts the UTF-8 edge code points") {
  for (const std::string_view valid :
       {"\xC2\x80"sv, "\xDF\xBF"sv, "\xE0\xA0\x80"sv, "\xED\x9F\xBF"sv, "\xEE\x80\x80"sv, "\xEF\xBF\xBF"sv,
        "\xF0\x90\x80\x80"sv, "\xF4\x8F\xBF\xBF"sv, "\x7F"sv, "\x00"sv}) {
    CAPTURE(std::string(valid));
    check_every_split(text(valid), {"T" + std::string(valid)});
  }
}

TEST_CASE("WsDecoder::feed closes with 1007 on overlong forms, surrogates and other invalid UTF-8") {
  for (const std::string_view invalid :
       {"\xC0\xAF"sv, "\xC1\xBF"sv, "\xE0\x80\xAF"sv, "\xE0\x9F\xBF"sv, "\xF0\x80\x80\xAF"sv,
        "\xF0\x8F\xBF\xBF"sv, "\xED\xA0\x80"sv, "\xED\xBF\xBF"sv, "\xF4\x90\x80\x80"sv, "\xF5\x80\x80\x80"sv,
        "\xFF"sv, "\xFE"sv, "\x80"sv, "a\xBF"sv, "\xE2\x9C"sv,
        "\xE2\x9C"
        "a"sv,
        "\xF0\x9F\x98"sv}) {
    CAPTURE(std::string(invalid));
    check_every_split(text(invalid) + text("after"), {"E1007"});
    // Fragmented, with the bad bytes in the first fragment and the message never finished.
    check_every_split(text(std::string(invalid) + "z", false) + more("x"), {"E1007"});
  }
}

TEST_CASE("WsDecoder::feed reports invalid UTF-8 before the rest of the message arrives") {
  const std::string stream = text("ok\xC0", false);
  CHECK(decode(4096, {stream}) == Events{"E1007"});
}

TEST_CASE("WsDecoder::feed reads 16-bit and 64-bit payload lengths") {
  const std::string medium(300, 'm');
  const std::string frame16 = text(medium);
  CHECK(static_cast<std::uint8_t>(frame16[1]) == (0x80 | 126));
  CHECK(frame16.size() == 2 + 2 + 4 + medium.size());
  check_every_split(frame16, {"T" + medium});

  const std::string big(70000, 'b');
  const std::string frame64 = text(big) + text("end");
  CHECK(static_cast<std::uint8_t>(frame64[1]) == (0x80 | 127));
  CHECK(decode(100000, {frame64}) == Events{"T" + big, "Tend"});
  // Every cut inside the header and the mask, then a byte at a time over the start of the payload.
  for (std::size_t cut = 0; cut <= 20; ++cut) {
    CAPTURE(cut);
    CHECK(decode(100000, {std::string_view(frame64).substr(0, cut), std::string_view(frame64).substr(cut)}) ==
          Events{"T" + big, "Tend"});
  }
}

TEST_CASE("WsDecoder::feed accepts lengths not in their shortest form") {
  // "ok" with a 16-bit length, then with a 64-bit one, all-zero mask.
  check_every_split(
      "\x81\xFE\x00\x02\x00\x00\x00\x00ok\x81\xFF\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00ok"sv,
      {"Tok", "Tok"});
}

TEST_CASE("WsDecoder::feed closes with 1002 on a 64-bit length with its top bit set") {
  check_every_split("\x81\xFF\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00"sv, {"E1002"});
}

TEST_CASE("WsDecoder::feed closes with 1002 on an unmasked frame, as a server sends it") {
  check_every_split(dschat::ws_frame(WsOpcode::text, "hi"), {"E1002"});
  check_every_split(text("ok") + dschat::ws_ping_frame("p"), {"Tok", "E1002"});
}

TEST_CASE("WsDecoder::feed in the client role decodes a server's unmasked frames") {
  const std::string long_line(300, 'x');  // a 16-bit length
  check_client_every_split(
      dschat::ws_frame(WsOpcode::text, "hi") + dschat::ws_ping_frame("p") +
          dschat::ws_frame(WsOpcode::text, long_line) + dschat::ws_frame(WsOpcode::text, "") +
          dschat::ws_close_frame(ws_close::going_away, "bye") + dschat::ws_frame(WsOpcode::text, "after"),
      {"Thi", "Pp", "T" + long_line, "T", "C1001:bye"});
}

TEST_CASE("WsDecoder::feed in the client role checks UTF-8 and closes with 1002 on a masked frame") {
  check_client_every_split(
      dschat::ws_frame(WsOpcode::text, "ok") + dschat::ws_frame(WsOpcode::text, "\xC0\x80"),
      {"Tok", "E1007"});
  check_client_every_split(dschat::ws_frame(WsOpcode::text, "ok") + text("masked"), {"Tok", "E1002"});
}

TEST_CASE("WsDecoder::feed closes with 1002 on reserved bits and unknown opcodes") {
  for (const std::uint8_t rsv : {0x40, 0x20, 0x10}) {
    std::string frame = text("x");
    frame[0] = static_cast<char>(frame[0] | rsv);
    check_every_split(frame, {"E1002"});
  }
  for (std::uint8_t opcode : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    CAPTURE(opcode);
    check_every_split(text("a") + dschat::ws_client_frame(static_cast<WsOpcode>(opcode), "x", mask),
                      {"Ta", "E1002"});
  }
}

TEST_CASE("WsDecoder::feed closes with 1002 on a fragmented or oversized control frame") {
  check_every_split(dschat::ws_client_frame(WsOpcode::ping, "x", mask, false), {"E1002"});
  check_every_split(dschat::ws_client_frame(WsOpcode::close, "", mask, false), {"E1002"});
  check_every_split(control(WsOpcode::ping, std::string(126, 'p')), {"E1002"});
  check_every_split(control(WsOpcode::pong, std::string(125, 'p')), {"O" + std::string(125, 'p')});
}

TEST_CASE("WsDecoder::feed closes with 1003 on a binary message") {
  check_every_split(dschat::ws_client_frame(WsOpcode::binary, "\x01\x02", mask), {"E1003"});
}

TEST_CASE("WsDecoder::feed closes with 1002 on fragments out of order") {
  check_every_split(more("x"), {"E1002"});
  check_every_split(text("a") + more("x"), {"Ta", "E1002"});
  check_every_split(text("a", false) + text("b"), {"E1002"});
}

TEST_CASE("WsDecoder::feed reports a close frame's code and reason, then ignores the rest") {
  check_every_split(control(WsOpcode::close, "") + text("ignored"), {"C1005:"});
  check_every_split(control(WsOpcode::close, close_payload(1000, "bye ✓")) + text("ignored"),
                    {"C1000:bye ✓"});
  check_every_split(control(WsOpcode::close, close_payload(4999, std::string(123, 'r'))),
                    {"C4999:" + std::string(123, 'r')});
}

TEST_CASE("WsDecoder::feed accepts exactly the close codes that may be sent") {
  for (std::uint32_t code = 0; code <= 0xFFFF; ++code) {
    const auto code16 = static_cast<std::uint16_t>(code);
    const Events events = decode(4096, {control(WsOpcode::close, close_payload(code16))});
    if (dschat::ws_close_code_valid(code16)) {
      CHECK(events == Events{"C" + std::to_string(code) + ":"});
    } else {
      CHECK(events == Events{"E1002"});
    }
  }
  for (const std::uint16_t valid :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
    CHECK(dschat::ws_close_code_valid(valid));
  }
  for (const std::uint16_t invalid : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    CHECK_FALSE(dschat::ws_close_code_valid(invalid));
  }
}

TEST_CASE("WsDecoder::feed closes with 1002 on a one-byte close payload, 1007 on a bad reason") {
  check_every_split(control(WsOpcode::close, "\x03"), {"E1002"});
  check_every_split(control(WsOpcode::close, close_payload(1000, "bad \xC0\xAF")), {"E1007"});
  check_every_split(control(WsOpcode::close, close_payload(1000, "cut \xE2\x9C")), {"E1007"});
}

TEST_CASE("WsDecoder::feed reports a too-long message once, skips it by length and goes on") {
  check_every_split(text("12345") + text("123456") + text("ok"), {"T12345", "L", "Tok"}, 5);
  // Fragmented: known too long at the second fragment's header; the third is skipped, a ping is not.
  check_every_split(
      text("abc", false) + more("def", false) + control(WsOpcode::ping, "p") + more("ghi") + text("x"),
      {"L", "Pp", "Tx"}, 5);
  // The skipped payload is not checked: invalid UTF-8 in it does not close.
  check_every_split(text("\xC0\xC0\xC0\xC0\xC0\xC0") + text("ok"), {"L", "Tok"}, 5);
}

TEST_CASE("WsDecoder::feed never buffers a too-long message") {
  const std::string payload(1 << 20, 'z');
  const std::string stream = text(payload) + text("after");
  WsDecoder decoder(4096);
  Events events;
  for (std::size_t at = 0; at < stream.size(); at += 1000) {
    decoder.feed(std::string_view(stream).substr(at, 1000), [&](const WsEvent& event) {
      events.push_back(describe(event));
      return true;
    });
    CHECK(decoder.buffered() <= 10);  // only the start of "after" ever waits
  }
  CHECK(events == Events{"L", "Tafter"});
}

TEST_CASE("WsDecoder::feed stops when on_event returns false") {
  WsDecoder decoder(4096);
  const std::string stream = text("one") + text("two");
  Events events;
  CHECK_FALSE(decoder.feed(stream, [&](const WsEvent& event) {
    events.push_back(describe(event));
    return false;
  }));
  CHECK(events == Events{"Tone"});
  CHECK_FALSE(decoder.done());
}

TEST_CASE("WsDecoder::done turns on after a close or an error and feed then returns false") {
  WsDecoder decoder(4096);
  CHECK(decoder.feed(text("a"), [](const WsEvent&) { return true; }));
  CHECK_FALSE(decoder.done());
  CHECK_FALSE(decoder.feed(control(WsOpcode::close, ""), [](const WsEvent&) { return true; }));
  CHECK(decoder.done());
  int calls = 0;
  CHECK_FALSE(decoder.feed(text("b"), [&](const WsEvent&) { return ++calls > 0; }));
  CHECK(calls == 0);
}

TEST_CASE("ws_client_frame with an all-zero mask leaves the payload as it is") {
  CHECK(dschat::ws_client_frame(WsOpcode::text, "abc", zero_mask) ==
        "\x81\x83\x00\x00\x00\x00"
        "abc"sv);
  CHECK(dschat::ws_client_frame(WsOpcode::text, "abc", zero_mask, false) ==
        "\x01\x83\x00\x00\x00\x00"
        "abc"sv);
}

TEST_CASE("ws_frame_header uses 2, 4 or 10 bytes, unmasked, FIN set") {
  CHECK(dschat::ws_frame_header(WsOpcode::text, 0).view() == "\x81\x00"sv);
  CHECK(dschat::ws_frame_header(WsOpcode::text, 125).view() == "\x81\x7D"sv);
  CHECK(dschat::ws_frame_header(WsOpcode::text, 126).view() == "\x81\x7E\x00\x7E"sv);
  CHECK(dschat::ws_frame_header(WsOpcode::text, 65535).view() == "\x81\x7E\xFF\xFF"sv);
  CHECK(dschat::ws_frame_header(WsOpcode::text, 65536).view() ==
        "\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00"sv);
  CHECK(dschat::ws_frame_header(WsOpcode::pong, 0x0102030405060708).view() ==
        "\x8A\x7F\x01\x02\x03\x04\x05\x06\x07\x08"sv);
  CHECK(dschat::ws_frame_header(WsOpcode::close, 2).view() == "\x88\x02"sv);
}

TEST_CASE("ws_line_frames makes one text frame per line, without the LF and without copying") {
  const std::string text = "* alice joined\n* bob joined\n\nlast";
  std::vector<dschat::WsLineFrame> frames;
  dschat::ws_line_frames(text, frames);
  REQUIRE(frames.size() == 4);
  CHECK(frames[0].line == "* alice joined");
  CHECK(frames[0].line.data() == text.data());
  CHECK(frames[0].header.view() == "\x81\x0E"sv);
  CHECK(frames[1].line == "* bob joined");
  CHECK(frames[1].line.data() == text.data() + 15);
  CHECK(frames[2].line.empty());
  CHECK(frames[2].header.view() == "\x81\x00"sv);
  CHECK(frames[3].line == "last");
  frames.clear();
  dschat::ws_line_frames("", frames);
  CHECK(frames.empty());
  const std::string long_line = std::string(300, 'x') + "\n";
  dschat::ws_line_frames(long_line, frames);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].header.view() == "\x81\x7E\x01\x2C"sv);
  CHECK(frames[0].line.size() == 300);
}

TEST_CASE("ws_frame puts the payload after its header") {
  CHECK(dschat::ws_frame(WsOpcode::text, "hi") == "\x81\x02hi"sv);
  const std::string line(200, 'l');
  CHECK(dschat::ws_frame(WsOpcode::text, line) == std::string("\x81\x7E\x00\xC8"sv) + line);
}

TEST_CASE("ws_close_frame holds the code and the reason, cut at a character boundary") {
  CHECK(dschat::ws_close_frame(ws_close::going_away, "server shutting down") ==
        "\x88\x16\x03\xE9server shutting down"sv);
  CHECK(dschat::ws_close_frame(ws_close::normal) == "\x88\x02\x03\xE8"sv);
  // 61 two-byte characters are 122 bytes; one more would pass 123.
  std::string reason;
  for (int i = 0; i < 70; ++i)
    reason += "я";
  const std::string frame = dschat::ws_close_frame(ws_close::protocol_error, reason);
  CHECK(frame.size() == 2 + 2 + 122);
  CHECK(frame.substr(4) == reason.substr(0, 122));
}

TEST_CASE("ws_ping_frame and ws_pong_frame carry at most 125 bytes") {
  CHECK(dschat::ws_ping_frame() == "\x89\x00"sv);
  CHECK(dschat::ws_pong_frame("abc") ==
        "\x8A\x03"
        "abc"sv);
  CHECK(dschat::ws_pong_frame(std::string(200, 'p')) == "\x8A\x7D" + std::string(125, 'p'));
}

TEST_CASE("ws_append_client_frame appends what ws_client_frame makes") {
  std::string out = "before";
  dschat::ws_append_client_frame(out, WsOpcode::text, "payload", mask);
  dschat::ws_append_client_frame(out, WsOpcode::ping, "", mask);
  CHECK(out == "before" + text("payload") + control(WsOpcode::ping, ""));
}

TEST_CASE("ws_client_key encodes 16 bytes as the 24 characters of a Sec-WebSocket-Key") {
  // The nonce 01 02 ... 10 (the example of RFC 6455 section 4.1), as Python's base64 module encodes it.
  std::array<std::uint8_t, 16> nonce{};
  for (std::size_t i = 0; i < nonce.size(); ++i)
    nonce[i] = static_cast<std::uint8_t>(i + 1);
  CHECK(dschat::ws_client_key(nonce) == "AQIDBAUGBwgJCgsMDQ4PEA==");
}

TEST_CASE("ws_accept_key gives the value of the example in RFC 6455 section 1.3") {
  CHECK(dschat::ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(dschat::ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}
