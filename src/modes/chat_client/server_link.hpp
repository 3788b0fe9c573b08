#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "core/line_framer.hpp"
#include "net/tls_engine.hpp"

namespace dschat {

/// The chat client's connection: a reader coroutine that frames what the server sends, and a writer
/// coroutine that sends queued lines in order. Both end after close() or when the connection ends.
class ServerLink {
 public:
  using OnFrame = std::function<void(FrameKind, std::string_view)>;
  /// error is asio::error::eof when the server closed cleanly.
  using OnClosed = std::function<void(const std::error_code&)>;
  using OnDrained = std::function<void()>;

  /// Takes a connected socket, and its TLS session when the handshake was made; lines longer than
  /// max_line are reported as too_long.
  ServerLink(asio::ip::tcp::socket socket, std::size_t max_line, std::optional<TlsEngine> tls = {});

  /// Why the connection ended when it was TLS that ended it; empty otherwise.
  const std::string& tls_error() const noexcept { return tls_error_; }

  /// Starts both coroutines. on_frame gets each line from the server, on_closed once when the connection
  /// ends (not after close()), on_drained whenever everything queued has been written.
  void start(OnFrame on_frame, OnClosed on_closed, OnDrained on_drained);

  /// Queues one line (a LF is added).
  void send(std::string_view line);

  /// Closes the socket; the coroutines finish without calling back. Idempotent.
  void close() noexcept;

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  void report_closed(const std::error_code& error);

  asio::ip::tcp::socket socket_;
  asio::steady_timer wake_writer_;  ///< the writer sleeps on it while the queue is empty
  std::deque<std::string> queue_;
  LineFramer framer_;
  OnFrame on_frame_;
  OnClosed on_closed_;
  OnDrained on_drained_;
  /// With TLS: decrypts what arrived and frames it; false when the session has ended (error set).
  bool feed_tls(std::string_view ciphertext, std::error_code& error);

  std::optional<TlsEngine> tls_;
  std::string tls_error_;
  bool closed_ = false;
};

}  // namespace dschat
