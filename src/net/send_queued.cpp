#include "net/send_queued.hpp"

#include <sys/socket.h>

#include <asio/error.hpp>
#include <cerrno>

namespace dschat {

std::size_t messages_sent(std::span<const iovec> pieces, std::size_t written) noexcept {
  std::size_t sent = 0;
  for (const iovec& piece : pieces) {
    if (written < piece.iov_len) break;
    written -= piece.iov_len;
    ++sent;
  }
  return sent;
}

template <class Item>
SendResult send_queued(int fd, BasicOutbox<Item>& outbox, std::span<iovec> pieces) noexcept {
  SendResult result;
  while (!outbox.empty()) {
    std::size_t count = 0;
    std::size_t offered = 0;
    outbox.gather(
        [&](const char* data, std::size_t size) {
          pieces[count++] = iovec{const_cast<char*>(data), size};
          offered += size;
        },
        pieces.size());
    msghdr header{};
    header.msg_iov = pieces.data();
    header.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(fd, &header, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        result.full = true;
      } else {
        result.error = std::error_code(errno, asio::error::get_system_category());
      }
      return result;
    }
    const auto written = static_cast<std::size_t>(sent);
    result.bytes += written;
    result.messages += outbox.consume(written);
    if (written < offered) {
      result.full = true;  // the socket buffer is full: another call now would only say so
      return result;
    }
  }
  return result;
}

template SendResult send_queued(int fd, Outbox& outbox, std::span<iovec> pieces) noexcept;
template SendResult send_queued(int fd, FrameOutbox& outbox, std::span<iovec> pieces) noexcept;

}  // namespace dschat
