// TLS in a Session: a TlsEngine between the socket and the session's one reader and one writer. The engine
// is sans-I/O; this file moves its ciphertext to and from the non-blocking socket. Idle, a TLS client
// holds no buffer here either: the engine releases its own, and the ciphertext not yet sent is dropped as
// soon as the kernel has taken it.

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio/error.hpp>
#include <cerrno>
#include <cstring>

#include "modes/async/session.hpp"
#include "net/endpoint.hpp"
#include "net/send_queued.hpp"

namespace dschat::async {
namespace {

// Plaintext encrypted per round: one full TLS record.
constexpr std::size_t record_size = 16 * 1024;

// Queued messages gathered per round; a record rarely holds more short lines than this.
constexpr std::size_t record_pieces = 256;

}  // namespace

void Session::start_tls() {
  tls_.emplace(TlsEngine::server(*context_.tls));
  // The timer is free until the handshake is done: the flood limit and the message pause need lines.
  timer_.expires_after(context_.options.handshake_timeout);
  timer_.async_wait([self = shared_from_this()](const std::error_code& error) {
    if (!error && !self->tls_opened_) self->fail("TLS handshake timed out");
  });
}

void Session::on_tls_open() {
  tls_opened_ = true;
  timer_.cancel();  // the handshake deadline
  join();
}

std::size_t Session::receive(std::span<char> buffer, std::error_code& error) {
  if (!tls_) return socket_.read_some(asio::buffer(buffer.data(), buffer.size()), error);
  for (;;) {
    const std::size_t n = tls_->read_plaintext(buffer);
    if (tls_->wants_write()) {
      // Handshake messages and alerts come out of reads: they leave the way lines do.
      if (tls_out_.empty())
        tls_out_ = tls_->take_ciphertext();
      else
        tls_out_ += tls_->take_ciphertext();
      if (!writing_ && !send_ciphertext() && !failed_) start_writer();
    }
    if (tls_->handshake_done() && !tls_opened_ && !reading_done_) on_tls_open();
    if (n > 0) return n;
    switch (tls_->state()) {
      case TlsState::closed:  // the client's close_notify
        error = asio::error::eof;
        return 0;
      case TlsState::truncated:
        tls_truncated_ = true;
        error = asio::error::eof;
        return 0;
      case TlsState::failed:
        fail(tls_->error());
        error = asio::error::operation_aborted;
        return 0;
      case TlsState::handshaking:
      case TlsState::open:
        break;
    }
    const std::size_t got = socket_.read_some(asio::buffer(buffer.data(), buffer.size()), error);
    if (error == asio::error::eof) {
      error.clear();
      tls_->feed_eof();  // closed or truncated, at the next read_plaintext()
      continue;
    }
    if (error) return 0;
    tls_->feed_ciphertext(std::string_view(buffer.data(), got));
  }
}

bool Session::send_ciphertext() {
  while (tls_out_used_ < tls_out_.size()) {
    const ssize_t sent = ::send(socket_.native_handle(), tls_out_.data() + tls_out_used_,
                                tls_out_.size() - tls_out_used_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        fail(disconnect_reason(std::error_code(errno, asio::error::get_system_category())));
      }
      return false;
    }
    tls_out_used_ += static_cast<std::size_t>(sent);
  }
  std::string().swap(tls_out_);  // an idle client keeps no buffer
  tls_out_used_ = 0;
  return true;
}

bool Session::write_tls() {
  std::array<iovec, record_pieces> pieces;
  std::array<char, record_size> record;  // on the thread's stack: write_now() is not a coroutine
  for (;;) {
    if (tls_->wants_write()) {
      if (tls_out_.empty())
        tls_out_ = tls_->take_ciphertext();
      else
        tls_out_ += tls_->take_ciphertext();
    }
    // What the kernel has not taken bounds what is encrypted: the rest waits in the outbox, which
    // --max-queue bounds, so a client that does not read is cut off as over TCP.
    if (!send_ciphertext()) return false;
    if (tls_->state() == TlsState::failed) {
      fail(tls_->error());
      return false;
    }
    if (outbox_.empty()) return true;
    std::size_t count = 0;
    outbox_.gather(
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
    tls_->write_plaintext(std::string_view(record.data(), size));
    stats_.lines_out += messages_sent(std::span<const iovec>(pieces.data(), count), size);
    outbox_.consume(size);
  }
}

void Session::close_tls() noexcept {
  if (!tls_) return;
  try {
    tls_->shutdown();  // one close_notify; the client's is never waited for
    if (tls_->wants_write()) {
      if (tls_out_.empty())
        tls_out_ = tls_->take_ciphertext();
      else
        tls_out_ += tls_->take_ciphertext();
    }
    send_ciphertext();  // what the kernel does not take now is dropped
  } catch (const std::exception&) {
    // Out of memory: the connection closes without its close_notify, as after a reset.
  }
}

}  // namespace dschat::async
