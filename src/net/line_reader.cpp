#include "net/line_reader.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/error.hpp>

namespace dschat {

namespace {

/// True when the kernel has closed the connection, which at the end of the stream means a reset.
bool was_reset(asio::ip::tcp::socket& socket) noexcept {
  tcp_info info{};
  socklen_t size = sizeof info;
  return ::getsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) == 0 &&
         info.tcpi_state == TCP_CLOSE;
}

}  // namespace

std::optional<ReadLine> LineReader::next(std::error_code& error) {
  error.clear();
  const auto collect = [this](FrameKind kind, std::string_view line) {
    ready_.push_back(ReadLine{kind, std::string(line)});
    return true;
  };
  while (ready_.empty() && !eof_) {
    const std::size_t n = socket_.read_some(asio::buffer(buffer_), error);
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
