#pragma once

#include <array>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "core/input_framer.hpp"

namespace dschat {

/// One framed event, owning its text.
struct ReadLine {
  FrameKind kind;
  std::string text;
};

/// Pulls framed lines from a blocking socket one at a time, keeping what arrived after them.
class LineReader {
 public:
  /// Called with bytes to send to the client (telnet answers) as soon as a read produced them.
  using SendReplies = std::function<void(std::string_view)>;

  /// Reads from socket (not owned), lines of at most max_line bytes; telnet answers go to send_replies
  /// (dropped when empty). With a message_pause above zero, the bytes of an unfinished line followed by
  /// that long a silence are a message (echo services).
  LineReader(asio::ip::tcp::socket& socket, std::size_t max_line, SendReplies send_replies = {},
             std::chrono::milliseconds message_pause = std::chrono::milliseconds::zero())
      : socket_(socket),
        framer_(max_line),
        send_replies_(std::move(send_replies)),
        message_pause_(message_pause) {}

  /// Where bytes come from instead of the socket (a TLS session over it): a call like read_some that may
  /// also return 0 without an error; pending tells whether it has bytes without waiting for the socket.
  using Source = std::function<std::size_t(std::span<char>, std::error_code&)>;
  void set_source(Source source, std::function<bool()> pending) {
    source_ = std::move(source);
    pending_ = std::move(pending);
  }

  /// The next line or too_long event; nullopt at end of stream (error set unless it was a clean EOF).
  std::optional<ReadLine> next(std::error_code& error);

  /// next(), but waiting at most timeout for the socket (in all): nullopt with error timed_out when
  /// no line is complete by then; the stream goes on, and a later call may still return the line.
  std::optional<ReadLine> next(std::error_code& error, std::chrono::milliseconds timeout);

  /// True when next() can return a line already read, without waiting for the socket.
  bool has_ready() const noexcept { return !ready_.empty(); }

  /// True once the client ended a line with CRLF: it gets CRLF back.
  bool crlf() const noexcept { return framer_.crlf(); }

 private:
  std::optional<ReadLine> next_until(std::error_code& error,
                                     std::optional<std::chrono::steady_clock::time_point> deadline);

  asio::ip::tcp::socket& socket_;
  InputFramer framer_;
  SendReplies send_replies_;
  std::chrono::milliseconds message_pause_;
  Source source_;
  std::function<bool()> pending_;
  std::deque<ReadLine> ready_;
  std::array<char, 16 * 1024> buffer_{};
  bool eof_ = false;
  std::error_code end_error_;  ///< how the stream ended, when not a clean EOF
};

}  // namespace dschat
