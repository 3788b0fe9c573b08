#pragma once

// Template definitions of LineFramer; included at the end of line_framer.hpp only.

#include <utility>

namespace dschat {

template <class OnFrame>
bool LineFramer::feed(std::string_view chunk, OnFrame&& on_frame) {
  while (!chunk.empty()) {
    const void* lf = std::memchr(chunk.data(), '\n', chunk.size());
    if (lf == nullptr) return take_partial(chunk, on_frame);
    const auto length_before_lf = static_cast<std::size_t>(static_cast<const char*>(lf) - chunk.data());
    const std::string_view head = chunk.substr(0, length_before_lf);
    chunk.remove_prefix(head.size() + 1);

    if (discarding_) {  // the LF ending a line already reported as too_long
      discarding_ = false;
      continue;
    }
    // The line is pending_ + head; a CR just before the LF may sit at the end of either.
    const std::size_t total = pending_.size() + head.size();
    const bool crlf = head.empty() ? (!pending_.empty() && pending_.back() == '\r') : head.back() == '\r';
    const std::size_t length = total - (crlf ? 1 : 0);
    saw_crlf_ = saw_crlf_ || crlf;
    if (length > max_line_) {
      pending_.clear();
      if (!on_frame(FrameKind::too_long, std::string_view{})) return false;
      continue;
    }
    std::string_view line = head;
    if (!pending_.empty()) {  // bounded by max_line + 1: checked just above
      pending_.append(head);
      line = pending_;
    }
    line = line.substr(0, length);
    const bool go_on = on_frame(FrameKind::line, line);
    pending_.clear();  // only now: line may point into pending_
    if (!go_on) return false;
  }
  return true;
}

template <class OnFrame>
void LineFramer::finish(OnFrame&& on_frame) {
  // Reset before calling out, so the framer is clean even if on_frame throws.
  const bool report = !discarding_ && !pending_.empty();
  std::string last = std::exchange(pending_, std::string{});
  discarding_ = false;
  if (!report) return;
  std::string_view line = last;
  if (line.back() == '\r') line.remove_suffix(1);
  on_frame(FrameKind::line, line);
}

template <class OnFrame>
bool LineFramer::take_partial(std::string_view part, OnFrame& on_frame) {
  if (discarding_ || part.empty()) return true;
  // max_line + 1 bytes are still fine when the last one is a CR: it may be the CR of a CRLF.
  // Written without max_line_ + 1, which would overflow for max_line == SIZE_MAX.
  const std::size_t total = pending_.size() + part.size();
  if (total > max_line_ && (total - max_line_ > 1 || part.back() != '\r')) {
    pending_.clear();
    discarding_ = true;
    return on_frame(FrameKind::too_long, std::string_view{});
  }
  pending_.append(part);
  return true;
}

}  // namespace dschat
