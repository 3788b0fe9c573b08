#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <system_error>

#include "core/outbox.hpp"
#include "net/send_queued.hpp"
#include "net/tls_context.hpp"
#include "net/tls_engine.hpp"

namespace dschat::async {

/// A server TlsEngine on a connected non-blocking socket: what both kinds of async session (the chat
/// Session and the WebSession) do to move its ciphertext to and from the socket, so that each keeps one
/// read path and one write path whether TLS is on or off. Nothing here waits: a call does what the socket
/// allows now, and the session waits for readiness as it does without TLS. Idle, it holds no buffer: the
/// engine releases its own, and the ciphertext not yet sent is dropped as soon as the kernel has taken it.
class TlsStream {
 public:
  /// Starts the server side of a handshake; nothing is sent until the client's ClientHello arrives.
  explicit TlsStream(const TlsContext& context);

  /// Reads plaintext into buffer from the socket fd, as read_some() does: the bytes, or 0 with error set to
  /// eof at the end of the stream (the client's close_notify, or truncated()), would_block when nothing
  /// more is there for now, protocol_error when the session failed (reason() says why), or the socket's
  /// own error. Handshake messages and alerts that come out of reading are sent as far as the socket takes
  /// them now; has_output() tells whether some wait.
  std::size_t receive(int fd, std::span<char> buffer, std::error_code& error);

  /// Encrypts what outbox holds while the socket takes its ciphertext, one TLS record at a time, and
  /// consumes it: what the kernel has not taken bounds what is encrypted, so the rest waits in the outbox,
  /// which --max-queue bounds, and a client that does not read is cut off as over TCP. drained() when the
  /// outbox and the ciphertext are both empty.
  template <class Item>
  SendResult write(int fd, BasicOutbox<Item>& outbox);

  /// Sends one close_notify, if the socket takes it now; never waits for the client's.
  void close(int fd) noexcept;

  /// True while ciphertext waits for the socket.
  bool has_output() const noexcept { return out_used_ < out_.size(); }

  /// True once the handshake is complete.
  bool handshake_done() const noexcept { return engine_.handshake_done(); }

  /// True when the stream ended without the client's close_notify: an unterminated last line is dropped.
  bool truncated() const noexcept { return engine_.state() == TlsState::truncated; }

  /// Why the connection ends after error from receive() or write(): the TLS failure, or the socket's.
  std::string reason(const std::error_code& error) const;

 private:
  /// Moves what the engine produced behind the ciphertext not yet sent.
  void collect();
  /// Hands the kernel the ciphertext not yet sent, without waiting; false when the socket is full (error
  /// clear) or failed (error set).
  bool send(int fd, std::error_code& error);

  TlsEngine engine_;
  std::string out_;  // ciphertext the kernel has not taken yet, from out_used_ on
  std::size_t out_used_ = 0;
};

}  // namespace dschat::async
