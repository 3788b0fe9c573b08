#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "core/line_framer.hpp"
#include "core/telnet_filter.hpp"

namespace dschat {

/// What every server does with a client's bytes (docs/protocol.md), without I/O: telnet commands removed and
/// answered (TelnetFilter), the rest split into lines (LineFramer); plus what a server needs to answer in
/// the client's own terms: the bytes to send back, and whether its lines end in CRLF.
class InputFramer {
 public:
  /// A framer accepting lines of at most max_line bytes (max_line >= 1).
  explicit InputFramer(std::size_t max_line) noexcept : lines_(max_line) {}

  /// Feeds one chunk, as LineFramer::feed. Telnet answers are appended to replies(), which the caller
  /// sends before any reply to the lines of this chunk.
  template <class OnFrame>
  bool feed(std::string_view chunk, OnFrame&& on_frame) {
    return lines_.feed(telnet_.feed(chunk, replies_), on_frame);
  }

  /// At end of stream: the unterminated last line, if any (LineFramer::finish).
  template <class OnFrame>
  void finish(OnFrame&& on_frame) {
    lines_.finish(on_frame);
  }

  /// The client paused: the bytes of an unfinished line are a message of their own (echo services, where
  /// a classic client sends "hello" without LF and waits for the answer).
  template <class OnFrame>
  void end_message(OnFrame&& on_frame) {
    lines_.finish(on_frame);
  }

  /// Bytes to send to the client (telnet answers); empty for a client that never spoke telnet.
  std::string& replies() noexcept { return replies_; }

  /// True once the client ended a line with CRLF: its replies end in CRLF too.
  bool crlf() const noexcept { return lines_.saw_crlf(); }

  /// True once the client spoke telnet.
  bool telnet() const noexcept { return telnet_.active(); }

  /// Bytes held for an unfinished line.
  std::size_t buffered() const noexcept { return lines_.buffered(); }

 private:
  TelnetFilter telnet_;
  LineFramer lines_;
  std::string replies_;
};

/// The line ending a client gets: "\r\n" when it sends CRLF, "\n" otherwise.
inline std::string_view line_ending(bool crlf) noexcept {
  return crlf ? std::string_view("\r\n") : std::string_view("\n");
}

}  // namespace dschat
