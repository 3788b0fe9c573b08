#pragma once

#include <array>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <system_error>

#include "core/line_framer.hpp"

namespace dschat {

/// One framed event, owning its text.
struct ReadLine {
  FrameKind kind;
  std::string text;
};

/// Pulls framed lines from a blocking socket one at a time, keeping what arrived after them.
class LineReader {
 public:
  /// Reads from socket (not owned), lines of at most max_line bytes.
  LineReader(asio::ip::tcp::socket& socket, std::size_t max_line) : socket_(socket), framer_(max_line) {}

  /// The next line or too_long event; nullopt at end of stream (error set unless it was a clean EOF).
  std::optional<ReadLine> next(std::error_code& error);

  /// next(), but waiting at most timeout for the socket (in all): nullopt with error timed_out when
  /// no line is complete by then; the stream goes on, and a later call may still return the line.
  std::optional<ReadLine> next(std::error_code& error, std::chrono::milliseconds timeout);

  /// True when next() can return a line already read, without waiting for the socket.
  bool has_ready() const noexcept { return !ready_.empty(); }

 private:
  std::optional<ReadLine> next_until(std::error_code& error,
                                     std::optional<std::chrono::steady_clock::time_point> deadline);
  asio::ip::tcp::socket& socket_;
  LineFramer framer_;
  std::deque<ReadLine> ready_;
  std::array<char, 16 * 1024> buffer_{};
  bool eof_ = false;
  std::error_code end_error_;  ///< how the stream ended, when not a clean EOF
};

}  // namespace dschat
