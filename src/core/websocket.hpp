#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dschat {

/// WebSocket frame opcodes (RFC 6455 §5.2).
enum class WsOpcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// WebSocket close status codes (RFC 6455 §7.4.1) that the server sends or reports.
namespace ws_close {
inline constexpr std::uint16_t normal = 1000;            ///< a normal close
inline constexpr std::uint16_t going_away = 1001;        ///< the server shuts down
inline constexpr std::uint16_t protocol_error = 1002;    ///< the peer broke RFC 6455
inline constexpr std::uint16_t unsupported_data = 1003;  ///< a binary message: dschat speaks text only
inline constexpr std::uint16_t no_status = 1005;         ///< a close frame without a code (never sent)
inline constexpr std::uint16_t invalid_payload = 1007;   ///< text that is not UTF-8
inline constexpr std::uint16_t policy_violation = 1008;  ///< e.g. a peer that does not answer pings
inline constexpr std::uint16_t message_too_big = 1009;   ///< not used for text: see WsEventKind::too_long
}  // namespace ws_close

/// True when code may appear in a close frame on the wire: 1000–1003, 1007–1014, 3000–4999.
bool ws_close_code_valid(std::uint16_t code) noexcept;

/// Which end of a WebSocket connection a WsDecoder reads for: it decodes the other end's frames.
enum class WsRole : std::uint8_t {
  server,  ///< reads a client's frames, which must be masked
  client,  ///< reads a server's frames, which must not be masked
};

/// What WsDecoder found in the peer's byte stream.
enum class WsEventKind : std::uint8_t {
  none,      ///< nothing complete yet
  text,      ///< a whole text message (fragments joined), valid UTF-8, at most max_message bytes: data
  ping,      ///< a ping; data is its payload, to send back in a pong
  pong,      ///< a pong; data is its payload
  close,     ///< the client closes: code (1005 when it gave none) and data, the UTF-8 reason
  too_long,  ///< a text message passed max_message bytes: reported once, its payload is skipped
  error,     ///< the client broke the protocol: code is the close code to send, data a short reason
};

/// One event from WsDecoder. data points into the decoder (or is static) and is valid until its next call.
struct WsEvent {
  WsEventKind kind = WsEventKind::none;  ///< what happened
  std::string_view data;                 ///< the payload, close reason or error reason
  std::uint16_t code = 0;                ///< close and error only: the close code
};

/// Decodes the frames one end of a WebSocket connection sends to the other (RFC 6455 §5), sans-I/O.
///
/// A server (WsRole::server) reads client frames, which must be masked; a client reads server frames, which
/// must not be (either the other way round is 1002). Reserved bits, unknown opcodes, fragmented or
/// over-125-byte control frames and a continuation without a message are protocol errors (1002), a binary
/// message is 1003, text that is not UTF-8 is 1007 (checked as bytes arrive, across fragments). A text
/// message longer than max_message is not buffered: too_long is reported as soon as a frame header shows it,
/// the rest of that message is skipped by length (its bytes are neither unmasked nor checked), and decoding
/// goes on with the next message. After a close or an error event the decoder is done and ignores every
/// further byte. Memory held: at most max_message + 125 bytes.
class WsDecoder {
 public:
  /// A decoder for role accepting text messages of at most max_message bytes.
  explicit WsDecoder(std::size_t max_message, WsRole role = WsRole::server) noexcept
      : max_message_(max_message), role_(role) {}

  /// Reads input until one event is complete or input is used up; returns the bytes used (input.size()
  /// once done). event is set when an event completed, left as none otherwise.
  std::size_t step(std::string_view input, WsEvent& event);

  /// Feeds one chunk: calls on_event(const WsEvent&) for each event, in order. on_event returns true to
  /// go on, false to stop (the rest of the chunk is dropped). Returns false when stopped or done.
  template <class OnEvent>
  bool feed(std::string_view chunk, OnEvent&& on_event) {
    while (!chunk.empty() && !done()) {
      WsEvent event;
      chunk.remove_prefix(step(chunk, event));
      if (event.kind != WsEventKind::none && !on_event(static_cast<const WsEvent&>(event))) return false;
    }
    return !done();
  }

  /// True after a close or an error event.
  bool done() const noexcept { return state_ == State::done; }

  /// Bytes held for unfinished messages and control frames.
  std::size_t buffered() const noexcept { return message_.size() + control_.size(); }

 private:
  enum class State : std::uint8_t { header, payload, done };

  /// Incremental UTF-8 check: the continuation bytes still expected and the range of the next one.
  struct Utf8Check {
    std::uint8_t left = 0;
    std::uint8_t low = 0x80;
    std::uint8_t high = 0xBF;
    bool take(std::uint8_t byte) noexcept;
  };

  std::size_t read_header(std::string_view input, WsEvent& event);
  std::size_t read_payload(std::string_view input, WsEvent& event);
  bool check_first_bytes(WsEvent& event);
  void start_frame(std::uint64_t length, WsEvent& event);
  void end_frame(WsEvent& event);
  void end_close_frame(WsEvent& event);
  void fail(WsEvent& event, std::uint16_t code, std::string_view reason) noexcept;
  bool append_text(std::string_view bytes);
  bool control() const noexcept { return (opcode_ & 0x8) != 0; }

  std::string message_;  // the text message being assembled
  std::string control_;  // the control frame being read
  std::size_t max_message_;
  WsRole role_;
  std::uint64_t remaining_ = 0;  // payload bytes of the current frame not read yet
  std::array<std::uint8_t, 14> head_{};
  std::array<std::uint8_t, 4> mask_{};
  std::uint8_t head_size_ = 0;
  std::uint8_t mask_at_ = 0;  // index into mask_ of the next payload byte
  std::uint8_t opcode_ = 0;
  State state_ = State::header;
  Utf8Check utf8_;
  bool fin_ = false;
  bool in_message_ = false;  // a text message has begun and its last fragment has not come yet
  bool skipping_ = false;    // the current message is too long: its payload is skipped
};

/// The header of an unmasked, final server frame: 2, 4 or 10 bytes.
struct WsFrameHeader {
  std::array<char, 10> bytes{};  ///< the header; only the first size bytes count
  std::size_t size = 0;          ///< 2, 4 or 10
  /// The header bytes.
  std::string_view view() const noexcept { return {bytes.data(), size}; }
};

/// The header of a final, unmasked frame of opcode carrying payload_size bytes, so that a server can
/// send the header and a payload it already holds in one gathered write, without copying the payload.
WsFrameHeader ws_frame_header(WsOpcode opcode, std::uint64_t payload_size) noexcept;

/// One line of a message as a text frame: its header, and the line's bytes without the LF.
struct WsLineFrame {
  WsFrameHeader header;   ///< the frame's header
  std::string_view line;  ///< the payload: a view into the text given to ws_line_frames
};

/// Appends to out one text frame per line of text (lines end at LF, which is not sent; a last line
/// without LF counts too; an empty text gives nothing). A Message may hold several lines (a batch of
/// join notices), and a WebSocket message is one line: this splits it without copying the text.
void ws_line_frames(std::string_view text, std::vector<WsLineFrame>& out);

/// A whole final, unmasked server frame: header and payload.
std::string ws_frame(WsOpcode opcode, std::string_view payload);

/// A close frame with code and reason, cut to 123 bytes at a UTF-8 character boundary.
std::string ws_close_frame(std::uint16_t code, std::string_view reason = {});

/// A ping frame; payload is cut to 125 bytes.
std::string ws_ping_frame(std::string_view payload = {});

/// A pong frame answering a ping with payload; payload is cut to 125 bytes.
std::string ws_pong_frame(std::string_view payload);

/// A masked frame as a client sends it (tests, fuzzing, a client): fin and mask as given, minimal length.
std::string ws_client_frame(WsOpcode opcode, std::string_view payload, std::array<std::uint8_t, 4> mask,
                            bool fin = true);

/// Appends ws_client_frame(opcode, payload, mask, fin) to out.
void ws_append_client_frame(std::string& out, WsOpcode opcode, std::string_view payload,
                            std::array<std::uint8_t, 4> mask, bool fin = true);

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + the RFC 6455 GUID)).
std::string ws_accept_key(std::string_view client_key);

/// A client's Sec-WebSocket-Key: the base64 encoding of a 16-byte nonce (24 characters).
std::string ws_client_key(const std::array<std::uint8_t, 16>& nonce);

}  // namespace dschat
