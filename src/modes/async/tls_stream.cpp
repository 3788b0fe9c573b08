// The moves of ciphertext between a TlsEngine (sans-I/O) and a non-blocking socket, shared by the chat
// Session (session_tls.cpp) and the WebSession.

#include "modes/async/tls_stream.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <asio/error.hpp>
#include <cerrno>
#include <cstring>
#include <exception>

#include "net/endpoint.hpp"

namespace dschat::async {
namespace {

// Plaintext encrypted per round: one full TLS record.
constexpr std::size_t record_size = 16 * 1024;

// Queued pieces gathered per round; a record rarely holds more short lines than this.
constexpr std::size_t record_pieces = 256;

std::error_code last_error() {
  return {errno, asio::error::get_system_category()};
}

}  // namespace

TlsStream::TlsStream(const TlsContext& context) : engine_(TlsEngine::server(context)) {}

void TlsStream::collect() {
  if (!engine_.wants_write()) return;
  if (out_.empty()) {
    out_ = engine_.take_ciphertext();
  } else {
    out_ += engine_.take_ciphertext();
  }
}

bool TlsStream::send(int fd, std::error_code& error) {
  while (out_used_ < out_.size()) {
    const ssize_t sent =
        ::send(fd, out_.data() + out_used_, out_.size() - out_used_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) error = last_error();
      return false;
    }
    out_used_ += static_cast<std::size_t>(sent);
  }
  std::string().swap(out_);  // an idle client keeps no buffer
  out_used_ = 0;
  return true;
}

std::size_t TlsStream::receive(int fd, std::span<char> buffer, std::error_code& error) {
  error.clear();
  for (;;) {
    const std::size_t n = engine_.read_plaintext(buffer);
    // Handshake messages and alerts come out of reads: they leave the way lines do.
    collect();
    if (!send(fd, error) && error) return 0;
    if (n > 0) return n;
    switch (engine_.state()) {
      case TlsState::closed:  // the client's close_notify
      case TlsState::truncated:
        error = asio::error::eof;
        return 0;
      case TlsState::failed:
        error = std::make_error_code(std::errc::protocol_error);
        return 0;
      case TlsState::handshaking:
      case TlsState::open:
        break;
    }
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      error = last_error();  // would_block when the socket is drained
      return 0;
    }
    if (got == 0) {
      engine_.feed_eof();  // closed or truncated, at the next read_plaintext()
      continue;
    }
    engine_.feed_ciphertext(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
  }
}

template <class Item>
SendResult TlsStream::write(int fd, BasicOutbox<Item>& outbox) {
  SendResult result;
  std::array<iovec, record_pieces> pieces;
  std::array<char, record_size> record;  // on the thread's stack: the sessions' writes are not coroutines
  for (;;) {
    collect();
    if (!send(fd, result.error)) {
      result.full = !result.error;
      return result;
    }
    if (engine_.state() == TlsState::failed) {
      result.error = std::make_error_code(std::errc::protocol_error);
      return result;
    }
    if (outbox.empty()) return result;
    std::size_t count = 0;
    outbox.gather(
        [&](const char* data, std::size_t size) {
          pieces[count++] = iovec{const_cast<char*>(data), size};
        },
        pieces.size());
    std::size_t size = 0;
    for (std::size_t i = 0; i < count && size < record.size(); ++i) {
      const std::size_t take = std::min(pieces[i].iov_len, record.size() - size);
      std::memcpy(record.data() + size, pieces[i].iov_base, take);
      size += take;
    }
    engine_.write_plaintext(std::string_view(record.data(), size));
    result.bytes += size;
    result.messages += outbox.consume(size);
  }
}

template SendResult TlsStream::write(int fd, Outbox& outbox);
template SendResult TlsStream::write(int fd, FrameOutbox& outbox);

void TlsStream::close(int fd) noexcept {
  try {
    engine_.shutdown();  // one close_notify; the client's is never waited for
    collect();
    std::error_code ignored;
    send(fd, ignored);  // what the kernel does not take now is dropped
  } catch (const std::exception&) {
    // Out of memory: the connection closes without its close_notify, as after a reset.
  }
}

std::string TlsStream::reason(const std::error_code& error) const {
  if (engine_.state() == TlsState::failed) return engine_.error();
  return disconnect_reason(error);
}

}  // namespace dschat::async
