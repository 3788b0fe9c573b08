#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/tls_context.hpp"

namespace dschat {

/// Where a TLS session stands.
enum class TlsState {
  handshaking,  ///< before the handshake is complete
  open,         ///< application data flows both ways
  closed,       ///< the peer sent close_notify: a clean end of stream
  truncated,    ///< the transport ended without close_notify: drop an unterminated last line
  failed,       ///< a handshake or protocol error; error() says why, take_ciphertext() may hold an alert
};

/// One TLS session over the caller's own transport (sans-I/O): the caller writes what it reads from the
/// socket into feed_ciphertext() and writes take_ciphertext() to the socket; plaintext goes through
/// read_plaintext() and write_plaintext(). Nothing here touches a socket, a clock or a thread; an engine is
/// used by one thread at a time. Idle (nothing buffered), it holds only OpenSSL's session state: its own
/// buffers are released as soon as they are drained.
///
/// The loop around it: on readable, read the socket into feed_ciphertext() (or feed_eof() at end of
/// stream), then call read_plaintext() until it returns 0 and look at state(); after every call, write
/// take_ciphertext() to the socket (handshake messages and alerts come out of reads too).
class TlsEngine {
 public:
  /// A server session for one accepted connection.
  static TlsEngine server(const TlsContext& context);

  /// A client session to host (used for SNI and the certificate's name; an IP literal is checked against
  /// the certificate's IP addresses).
  static TlsEngine client(const TlsContext& context, std::string_view host);

  /// Movable, not copyable; the move keeps the OpenSSL object where it is.
  TlsEngine(TlsEngine&&) noexcept;
  TlsEngine& operator=(TlsEngine&&) noexcept;
  /// Frees the session; sends nothing (call shutdown() first for a close_notify).
  ~TlsEngine();

  /// Hands over bytes read from the socket, and goes on with the handshake. A server whose client's first
  /// byte cannot start a TLS record fails at once ("client does not speak TLS: ...").
  void feed_ciphertext(std::string_view bytes);

  /// Tells the engine the socket read end of stream. Without the peer's close_notify, the session becomes
  /// truncated once the plaintext already received has been read (failed during the handshake).
  void feed_eof();

  /// Bytes to write to the socket now (handshake, records, alerts, close_notify); empty when none.
  std::string take_ciphertext();

  /// True when take_ciphertext() would return bytes.
  bool wants_write() const noexcept;

  /// Decrypts into buffer what has arrived; returns how many bytes (0 when nothing is ready for now, or
  /// at the end of the stream: see state()).
  std::size_t read_plaintext(std::span<char> buffer);

  /// True when read_plaintext() may return bytes without more ciphertext: call it before waiting for the
  /// socket again (after pausing reads for --rate, say).
  bool plaintext_pending() const noexcept;

  /// Encrypts bytes for the peer; before the handshake is complete they wait in the engine. Ignored once
  /// the session is failed or shut down.
  void write_plaintext(std::string_view bytes);

  /// Sends one close_notify (once; later calls do nothing) and never waits for the peer's: take the
  /// ciphertext, write it, close the socket.
  void shutdown();

  /// True once the handshake is complete (also after a later close).
  bool handshake_done() const noexcept;

  /// Where the session stands.
  TlsState state() const noexcept;

  /// Why the session failed, in one line ("certificate verify failed: hostname mismatch"); empty when it
  /// did not.
  const std::string& error() const noexcept;

  /// The negotiated protocol ("TLSv1.3"), empty before the handshake is complete.
  std::string protocol() const;

  /// The session's state, defined in tls_engine.cpp (public for OpenSSL's callbacks there only).
  struct Impl;

 private:
  explicit TlsEngine(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace dschat
