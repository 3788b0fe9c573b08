#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace dschat {

/// What the framer found in the byte stream.
enum class FrameKind {
  line,      ///< a complete line, without its line ending
  too_long,  ///< a line passed max_line bytes; its bytes are being skipped up to the next LF
};

/// Splits a byte stream into lines (docs/protocol.md). LF ends a line; a CR right before the LF is not part
/// of the line. A line whose length passes max_line is reported once as too_long as soon as that is known
/// (without waiting for its LF) and skipped through the next LF, so memory stays bounded by max_line.
/// Lines complete inside one chunk are handed out as views into that chunk (no copy); only an
/// unfinished tail is kept between calls.
class LineFramer {
 public:
  /// A framer accepting lines of at most max_line bytes (max_line >= 1).
  explicit LineFramer(std::size_t max_line) noexcept : max_line_(max_line) {}

  /// Feeds one chunk. Calls on_frame(FrameKind, std::string_view line) for each event, in order (line is
  /// empty for too_long); the view is valid only during the call. on_frame returns true to go on, false
  /// to stop: the rest of the chunk is dropped. Returns false when stopped.
  template <class OnFrame>
  bool feed(std::string_view chunk, OnFrame&& on_frame);

  /// At end of stream: reports the unterminated last line, if any (a trailing CR is dropped), and resets.
  template <class OnFrame>
  void finish(OnFrame&& on_frame);

  /// Bytes held for an unfinished line; never more than max_line + 1.
  std::size_t buffered() const noexcept { return pending_.size(); }

  /// True once a line ended with CR LF (sticky: the client is a CRLF client).
  bool saw_crlf() const noexcept { return saw_crlf_; }

  /// The limit given at construction.
  std::size_t max_line() const noexcept { return max_line_; }

 private:
  /// Handles bytes of an unfinished line (no LF among them); returns false when on_frame stopped.
  template <class OnFrame>
  bool take_partial(std::string_view part, OnFrame& on_frame);

  std::string pending_;
  std::size_t max_line_;
  bool discarding_ = false;
  bool saw_crlf_ = false;
};

}  // namespace dschat

#include "core/line_framer_impl.hpp"
