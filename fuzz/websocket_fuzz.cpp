// libFuzzer target for the WebSocket codec (RFC 6455). Input: [step] [max] [bytes...].
//
// 1. The bytes as a raw client stream: cut into chunks of step bytes or decoded whole, the events must be
//    the same, the decoder holds at most max + 125 bytes and nothing follows a close or an error.
// 2. The bytes as a script of client frames (text messages in fragments, pings and pongs between them, a
//    close at the end), encoded with ws_client_frame and decoded in chunks: the events must be what a
//    reference model says, with its own UTF-8 check (by code point value, not by byte ranges).
// 3. ws_frame_header round trip: the header read back gives opcode, FIN, no mask and the length.
// 4. ws_line_frames: the raw bytes as a message of lines, one frame per line, joined back with LF.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "core/websocket.hpp"
#include "script.hpp"

namespace {

using dschat::WsDecoder;
using dschat::WsEvent;
using dschat::WsEventKind;
using dschat::WsOpcode;
using dschat::fuzz::check;
using dschat::fuzz::Script;

using Events = std::vector<std::string>;

std::string describe(const WsEvent& event) {
  const std::string data(event.data);
  switch (event.kind) {
    case WsEventKind::text:
      return "T" + data;
    case WsEventKind::ping:
      return "P" + data;
    case WsEventKind::pong:
      return "O" + data;
    case WsEventKind::close:
      return "C" + std::to_string(event.code) + ":" + data;
    case WsEventKind::too_long:
      return "L";
    case WsEventKind::error:
      return "E" + std::to_string(event.code);
    case WsEventKind::none:
      break;
  }
  return "?";
}

std::string joined(const Events& events) {
  std::string out;
  for (const std::string& event : events)
    out.append("[").append(event).append("]");
  return out;
}

Events decode(std::string_view stream, std::size_t step, std::size_t max) {
  WsDecoder decoder(max);
  Events events;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    decoder.feed(stream.substr(at, step), [&](const WsEvent& event) {
      check(event.kind != WsEventKind::none, "feed reported an empty event");
      check(events.empty() || (events.back()[0] != 'C' && events.back()[0] != 'E'), "event after the end");
      events.push_back(describe(event));
      return true;
    });
    check(decoder.buffered() <= max + 125, "decoder holds too much");
  }
  return events;
}

enum class Utf8 { invalid, valid, unfinished };

/// Reference UTF-8 check by code point value: unfinished when text is cut inside a character that some
/// continuation bytes would make valid.
Utf8 classify(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<std::uint8_t>(text[i]);
    std::size_t size = 0;
    std::uint32_t low = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      size = 2, low = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      size = 3, low = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      size = 4, low = lead & 0x07;
    } else {
      return Utf8::invalid;
    }
    const std::size_t have = std::min(size, text.size() - i);
    std::uint32_t high = low;
    for (std::size_t k = 1; k < size; ++k) {
      if (k < have) {
        const auto byte = static_cast<std::uint8_t>(text[i + k]);
        if ((byte & 0xC0) != 0x80) return Utf8::invalid;
        low = (low << 6) | (byte & 0x3F);
        high = (high << 6) | (byte & 0x3F);
      } else {
        low <<= 6;
        high = (high << 6) | 0x3F;
      }
    }
    // Some value in [low, high] must be a code point that needs exactly size bytes and is no surrogate.
    const std::uint32_t shortest = size == 2 ? 0x80 : size == 3 ? 0x800 : 0x10000;
    const std::uint32_t from = std::max(low, shortest);
    const std::uint32_t to = std::min<std::uint32_t>(high, 0x10FFFF);
    if (from > to || (from >= 0xD800 && to <= 0xDFFF)) return Utf8::invalid;
    if (have < size) return Utf8::unfinished;
    i += size;
  }
  return Utf8::valid;
}

std::string take(Script& script, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size && !script.done(); ++i)
    out.push_back(static_cast<char>(script.next()));
  return out;
}

std::array<std::uint8_t, 4> take_mask(Script& script) {
  return {script.next(), script.next(), script.next(), script.next()};
}

/// Builds frames from the script into stream and the events the model expects into expected.
void script_frames(Script& script, std::size_t max, std::string& stream, Events& expected) {
  bool ended = false;
  const auto control = [&](Script& s) {
    const bool ping = s.next() % 2 == 0;
    const std::string payload = take(s, s.next() % 126);
    stream += dschat::ws_client_frame(ping ? WsOpcode::ping : WsOpcode::pong, payload, take_mask(s));
    if (!ended) expected.push_back((ping ? "P" : "O") + payload);
  };
  while (!script.done()) {
    const std::uint8_t op = script.next() % 8;
    if (op < 5) {  // a text message in 1..4 fragments, control frames between them
      const std::size_t fragments = 1 + script.next() % 4;
      std::string message;
      bool skipping = false;
      for (std::size_t k = 0; k < fragments; ++k) {
        const std::string payload = take(script, script.next() % 48);
        const bool fin = k + 1 == fragments;
        stream += dschat::ws_client_frame(k == 0 ? WsOpcode::text : WsOpcode::continuation, payload,
                                          take_mask(script), fin);
        if (!ended && !skipping && message.size() + payload.size() > max) {
          skipping = true;
          expected.push_back("L");
        }
        if (!ended && !skipping) {
          message += payload;
          const Utf8 state = classify(message);
          if (state == Utf8::invalid || (fin && state == Utf8::unfinished)) {
            expected.push_back("E1007");
            ended = true;
          } else if (fin) {
            expected.push_back("T" + message);
          }
        }
        if (!fin && script.next() % 4 == 0) control(script);
      }
    } else if (op < 7) {
      control(script);
    } else {  // a close frame ends the script
      std::uint16_t code = 1000;
      if (script.next() % 2 == 0) {
        code = static_cast<std::uint16_t>(code + script.next() % 20);
      } else {
        code = static_cast<std::uint16_t>(script.next() << 8);
        code = static_cast<std::uint16_t>(code | script.next());
      }
      const std::string reason = take(script, script.next() % 16);
      std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
      stream += dschat::ws_client_frame(WsOpcode::close, payload + reason, take_mask(script));
      if (ended) return;
      if (!dschat::ws_close_code_valid(code)) {
        expected.push_back("E1002");
      } else if (classify(reason) != Utf8::valid) {
        expected.push_back("E1007");
      } else {
        expected.push_back("C" + std::to_string(code) + ":" + reason);
      }
      return;
    }
  }
}

void check_header_round_trip(const std::uint8_t* data, std::size_t size) {
  std::uint64_t length = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(size, 8); ++i)
    length = (length << 8) | data[i];
  length >>= (size > 0 ? data[0] % 64 : 0);
  const auto header = dschat::ws_frame_header(WsOpcode::text, length);
  const std::string_view bytes = header.view();
  check(bytes[0] == '\x81', "header: not a final text frame");
  const auto length7 = static_cast<std::uint8_t>(bytes[1]);
  check(length7 < 0x80, "header: server frame masked");
  std::uint64_t read = length7;
  const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  check(bytes.size() == 2 + extended, "header: wrong size", bytes);
  if (extended > 0) {
    read = 0;
    for (std::size_t i = 0; i < extended; ++i)
      read = (read << 8) | static_cast<std::uint8_t>(bytes[2 + i]);
  }
  check(read == length, "header: length does not read back", bytes);
  check(extended == 0 || read >= (extended == 2 ? 126U : 65536U), "header: length not in its shortest form");
}

/// The lines of text, each a frame whose header gives its length, joined with LF give text back.
void check_line_frames(std::string_view text) {
  std::vector<dschat::WsLineFrame> frames;
  dschat::ws_line_frames(text, frames);
  std::string joined_lines;
  for (const auto& frame : frames) {
    check(frame.line.find('\n') == std::string_view::npos, "line frame holds an LF", frame.line);
    check(frame.header.view() == dschat::ws_frame_header(WsOpcode::text, frame.line.size()).view(),
          "line frame header does not match its line", frame.line);
    check(frame.line.data() >= text.data() &&
              frame.line.data() + frame.line.size() <= text.data() + text.size(),
          "line frame copied its line");
    if (&frame != &frames.front()) joined_lines.push_back('\n');
    joined_lines.append(frame.line);
  }
  const std::string_view expected = text.ends_with('\n') ? text.substr(0, text.size() - 1) : text;
  check(joined_lines == expected, "line frames do not give the text back", joined_lines);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t step = 1 + data[0] % 16;
  const std::size_t max = data[1];
  const std::string_view raw(reinterpret_cast<const char*>(data + 2), size - 2);

  const Events whole = decode(raw, raw.size() + 1, max);
  const Events cut = decode(raw, step, max);
  check(cut == whole, "events depend on how the stream is cut", joined(cut) + " vs " + joined(whole));

  Script script(data + 2, size - 2);
  std::string stream;
  Events expected;
  script_frames(script, max, stream, expected);
  const Events decoded = decode(stream, step, max);
  check(decoded == expected, "frames do not decode as the model says",
        joined(decoded) + " vs " + joined(expected));

  check_header_round_trip(data + 2, size - 2);
  check_line_frames(raw);
  return 0;
}
