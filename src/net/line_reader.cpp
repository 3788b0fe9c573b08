#include "net/line_reader.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/error.hpp>
#include <cerrno>

namespace dschat {

namespace {

/// True when the kernel has closed the connection, which at the end of the stream means a reset.
bool was_reset(asio::ip::tcp::socket& socket) noexcept {
  tcp_info info{};
  socklen_t size = sizeof info;
  return ::getsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) == 0 &&
         info.tcpi_state == TCP_CLOSE;
}

/// Waits until socket has something to read (or has ended) or deadline passes; false when it passed.
bool wait_readable(asio::ip::tcp::socket& socket, std::chrono::steady_clock::time_point deadline) noexcept {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd wait{socket.native_handle(), POLLIN, 0};
    const int ready =
        ::poll(&wait, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0)));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return true;  // let the read report it
  }
}

}  // namespace

std::optional<ReadLine> LineReader::next(std::error_code& error) {
  return next_until(error, std::nullopt);
}

std::optional<ReadLine> LineReader::next(std::error_code& error, std::chrono::milliseconds timeout) {
  return next_until(error, std::chrono::steady_clock::now() + timeout);
}

std::optional<ReadLine> LineReader::next_until(
    std::error_code& error, std::optional<std::chrono::steady_clock::time_point> deadline) {
  error.clear();
  const auto collect = [this](FrameKind kind, std::string_view line) {
    ready_.push_back(ReadLine{kind, std::string(line)});
    return true;
  };
  while (ready_.empty() && !eof_) {
    if (message_pause_.count() > 0 && framer_.buffered() > 0 &&
        !wait_readable(socket_, std::chrono::steady_clock::now() + message_pause_)) {
      framer_.end_message(collect);  // the client paused after a message without LF: answer it
      break;
    }
    if (deadline && !(pending_ && pending_()) && !wait_readable(socket_, *deadline)) {
      error = asio::error::timed_out;
      return std::nullopt;
    }
    const std::size_t n = source_ ? source_(buffer_, error) : socket_.read_some(asio::buffer(buffer_), error);
    if (error) {
      eof_ = true;
      framer_.finish(collect);
      // A reset is reported once per socket: when a thread writing to it took the error first, this read
      // sees only the end of the stream, but a peer that closed normally leaves the socket in CLOSE_WAIT.
      if (error == asio::error::eof && was_reset(socket_)) error = asio::error::connection_reset;
      if (error != asio::error::eof) end_error_ = error;
      error.clear();
      break;
    }
    framer_.feed(std::string_view(buffer_.data(), n), collect);
    if (!framer_.replies().empty()) {
      if (send_replies_) send_replies_(framer_.replies());
      framer_.replies().clear();
    }
  }
  if (ready_.empty()) {
    error = end_error_;  // kept until the lines read before it are handed out
    return std::nullopt;
  }
  ReadLine line = std::move(ready_.front());
  ready_.pop_front();
  return line;
}

}  // namespace dschat
