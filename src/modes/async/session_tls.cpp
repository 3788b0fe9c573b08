// TLS in a Session: a TlsStream between the socket and the session's one reader and one writer. The stream
// (shared with the WebSession) moves the engine's ciphertext; this file ties it to the session's life: the
// handshake deadline, the join once the handshake is complete, failures as disconnect reasons.

#include <asio/error.hpp>
#include <system_error>

#include "modes/async/session.hpp"

namespace dschat::async {

void Session::start_tls() {
  tls_.emplace(*context_.tls);
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
  const std::size_t n = tls_->receive(socket_.native_handle(), buffer, error);
  // Handshake messages the socket would not take at once leave the way lines do.
  if (tls_->has_output() && !writing_ && !failed_) start_writer();
  if (tls_->handshake_done() && !tls_opened_ && !reading_done_) on_tls_open();
  if (error == std::errc::protocol_error) {
    fail(tls_->reason(error));
    error = asio::error::operation_aborted;
  }
  return n;
}

void Session::close_tls() noexcept {
  if (tls_) tls_->close(socket_.native_handle());
}

}  // namespace dschat::async
