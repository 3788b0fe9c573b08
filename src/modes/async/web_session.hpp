#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/chat_room.hpp"
#include "core/flood_limit.hpp"
#include "core/http_route.hpp"
#include "core/outbox.hpp"
#include "core/room_admission.hpp"
#include "core/websocket.hpp"
#include "log/connection_logger.hpp"
#include "modes/async/io_types.hpp"
#include "modes/async/session_context.hpp"
#include "modes/async/tls_stream.hpp"

namespace dschat::async {

class WebSession;

/// What every connection to the web endpoint shares besides the SessionContext. Owned by the server.
struct WebContext {
  HttpPolicy policy;  ///< which WebSocket handshakes are allowed (--web-origin)
  /// Called once per web session after it has closed.
  std::function<void(const std::shared_ptr<WebSession>&)> ended;
};

/// One connection to the web endpoint (docs/protocol.md, Browsers): one HTTP request, answered and closed,
/// or a WebSocket handshake after which the connection is a chat room member like a TCP client. One text
/// message is one line each way. Its writer is the Session's, in small: a FrameOutbox of frames, each its
/// header and a line of the room's shared Message (at most --max-queue bytes, or the client is cut as too
/// slow), written with send_queued(). Lives in a shared_ptr held by its coroutines.
///
/// With TLS (context.tls) the Session's TlsStream sits between the socket and the same reader and writer:
/// https and wss with the chat port's certificate. The TLS handshake must be complete within
/// --handshake-timeout, and the request head within the handshake budget of the whole connection.
class WebSession final : public ChatPeer, public std::enable_shared_from_this<WebSession> {
 public:
  using Clock = std::chrono::steady_clock;

  /// A session for an accepted, connected, non-blocking socket whose printable address is peer; both
  /// contexts must outlive it.
  WebSession(Socket socket, std::string peer, const SessionContext& context, const WebContext& web);
  ~WebSession() override;

  WebSession(const WebSession&) = delete;
  WebSession& operator=(const WebSession&) = delete;

  /// Reads the request, answers it, and for a WebSocket serves the member until it leaves; then closes,
  /// logs and calls web.ended. Returns at once: all of it runs on the loop.
  void start();

  /// Queues msg for the member as one text frame per line.
  void send(const Message& msg) override;

  /// Server shutdown: stop reading, flush what is queued, then close a WebSocket with 1001.
  void stop();

  /// Every --web-ping period: pings a WebSocket member; one that has sent nothing since the last ping is
  /// closed with 1008, so a browser that vanished without a word is found (docs/protocol.md, Browsers).
  void ping();

  /// --idle-timeout: a WebSocket member that has sent nothing since cutoff is told so and closed (1000),
  /// as Session::expire_if_silent_since() does for a TCP client. A request has its own 10 s deadline.
  void expire_if_silent_since(Clock::time_point cutoff);

  /// A WebSocket still not admitted at its password deadline is told "! password required" and closed
  /// (1008), as Session::expire_admission() does for a TCP client.
  void expire_admission(Clock::time_point now);

  /// True while the room has a password and the member-to-be has not given it.
  bool waiting_for_password() const noexcept {
    return admission_ && admission_->state() == AdmissionState::waiting;
  }

 private:
  template <class AnySession, class End>
  friend void take_admission_line(AnySession& session, std::string_view line, End end);

  /// What read_some() read: bytes into buffer_, or an error (eof at the end of the stream).
  struct ReadResult {
    std::size_t bytes = 0;
    std::error_code error;
  };

  // HTTP (web_session.cpp)
  Awaitable<void> run();
  /// Reads what the client sent (plaintext, through TLS when on) into buffer_, waiting for the socket
  /// while it has nothing: timed_out when deadline_ expires first, operation_aborted when it is cancelled
  /// (stop(), fail()) first.
  Awaitable<ReadResult> read_some();
  /// Reads without waiting: from the socket, or through TLS; error as from read_some() on a non-blocking
  /// socket (would_block when there is nothing more for now). A TLS failure fails the session.
  std::size_t receive(std::error_code& error);
  /// The TLS handshake is complete: the request head gets what is left of the handshake budget.
  void on_tls_open();
  /// The reason for an end of stream: "eof", or a truncation without TLS close_notify.
  std::string_view eof_reason() const noexcept;
  /// Reads the request head within the handshake deadline; false when the connection ended first.
  Awaitable<bool> read_head();
  /// Answers the request; true when it upgraded to a WebSocket.
  bool answer();
  /// Leaves the room, flushes (bounded), reads and drops what the client still sends until its EOF or a
  /// short linger, closes and logs.
  Awaitable<void> close();
  /// Records why the connection ends (the first reason wins); tell_room: the others are told it too.
  void set_reason(std::string_view reason, bool tell_room);

  // WebSocket (web_session_ws.cpp)
  /// Joins the room and reads messages until the client or the server ends the connection.
  Awaitable<void> serve_websocket(std::string_view early);
  /// Handles one decoder event; false ends reading.
  bool on_event(const WsEvent& event);
  /// Hands a text message to the room, one line per LF-separated piece; false when the member left.
  bool on_text(std::string_view text);
  /// The first time the flood limit pauses reading: tells the member.
  void note_paced();
  /// Queues a close frame once and ends reading.
  void send_close(std::uint16_t code, std::string_view reason);
  void leave_room() noexcept;
  /// Makes the client a member: the room's welcome, and its join notice per the quiet-join rules.
  void join_room();
  /// Handles a line before the password was given (never logged: it may hold one); false ends reading.
  bool on_admission_line(std::string_view line);
  /// Sends the client one line of the server's own, outside the room.
  void tell(std::string_view text);

  // Writing (web_session_writer.cpp)
  /// Queues a frame already encoded whole (ping, pong, close); cuts the client off when the outbox is full.
  void queue(const Message& bytes);
  /// Queues a frame; cuts the client off (false) when the outbox is full.
  bool push(PrefixedSlice frame);
  /// Writes what is queued after this turn of the loop (flush_now), unless that is planned or a writer runs.
  void schedule_flush();
  /// Hands the kernel what is queued; starts the writer when the socket would not take it all.
  void flush_now();
  /// Starts write_loop(), unless it runs already.
  void start_writer();
  /// Waits for the socket to take more, writes, and again, until the outbox is empty.
  Awaitable<void> write_loop();
  /// Writes until the outbox is empty or deadline passes.
  Awaitable<void> flush(Clock::time_point deadline);
  /// Hands queued bytes to the kernel without waiting: true when the outbox is empty.
  bool write_now();
  void fail(std::string_view reason);

  Socket socket_;
  const SessionContext& context_;
  const WebContext& web_;
  FrameOutbox outbox_;
  FloodLimit bucket_;  // --rate and --rate-bytes, charged per line as for a TCP client
  Timer deadline_;     // the handshake deadline, a wait that stop() cancels, flood pauses, the flush deadline
  HttpRequestParser parser_;
  WsDecoder decoder_;
  // The loop's one read buffer, shared with every session (SessionContext::read_buffer): filled and consumed
  // between two co_awaits. An idle WebSocket client holds no read buffer of its own.
  std::span<char> buffer_;
  std::string held_;   // frames read but not decoded yet when a flood pause began (the buffer is shared)
  std::string early_;  // bytes after the request head: the client's first frames
  ConnectionStats stats_;
  std::string room_reason_;  // what the others are told when this member leaves
  Clock::time_point started_;
  Clock::time_point last_heard_;            // when the client last sent something (--idle-timeout)
  std::optional<RoomAdmission> admission_;  // set when the room has a password
  ChatRoom::MemberId id_ = 0;
  bool joined_ = false;
  bool websocket_ = false;
  bool reading_done_ = false;
  bool close_sent_ = false;
  bool failed_ = false;
  bool writing_ = false;          // write_loop() exists
  bool flush_scheduled_ = false;  // flush_now() is posted
  bool paced_ = false;
  bool awaiting_pong_ = false;    // pinged, and nothing heard since
  bool tls_opened_ = false;       // on_tls_open() has run
  std::optional<TlsStream> tls_;  // with TLS
};

}  // namespace dschat::async
