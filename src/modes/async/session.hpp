#pragma once

#include <asio/cancellation_signal.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "core/chat_room.hpp"
#include "core/flood_limit.hpp"
#include "core/input_framer.hpp"
#include "core/outbox.hpp"
#include "core/room_admission.hpp"
#include "log/connection_logger.hpp"
#include "modes/async/io_types.hpp"
#include "modes/async/session_context.hpp"
#include "modes/async/tls_stream.hpp"

namespace dschat::async {

/// One client of the async server. Owns its socket, outbox, framer and flood limiter.
///
/// Coroutines do the work, and exist only while there is work: a reader coroutine reads while the socket
/// has data and ends when it is drained; the client then waits as one pending readiness wait whose
/// callback starts the next reader, so an idle client holds no coroutine frames. What is queued for the
/// client is written after the current turn of the loop, and a writer coroutine exists only while the
/// client is behind (its socket buffer full). When reading ends, a closing coroutine flushes, closes and
/// logs. As a ChatPeer it only queues: nothing ever waits for this client's socket but its own writer.
/// Lives in a shared_ptr held by its coroutines, its pending wait and a pending flush.
///
/// With TLS (context.tls) a TlsStream sits between the socket and the same reader and writer: receive()
/// hands the reader plaintext, write_now() encrypts what the outbox holds. The client joins once its
/// handshake is complete, which must happen within --handshake-timeout.
class Session final : public ChatPeer, public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  /// A session for an accepted, connected socket whose printable address is peer; context must outlive it.
  Session(Socket socket, std::string peer, const SessionContext& context);
  ~Session() override;

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Logs the connection and joins the chat room (chat service), or, when the room has a password, tells
  /// the client so and waits for /pass; call once, before start().
  void open();

  /// The connection's life after open(): read until EOF, /quit, `end`, an error or stop(); leave the room;
  /// flush what is queued (bounded by a deadline); close; log; then, once the writer has finished too,
  /// context.ended(). Returns at once: all of it runs on the loop.
  void start();

  /// Queues msg for the client. An outbox that stays full after offering the kernel what it holds cuts the
  /// client off as too slow: its socket operations are cancelled here, and the room is told later, when
  /// reading ends, never from inside this call.
  void send(const Message& msg) override;

  /// Server shutdown: stop reading; what is queued is still flushed, for up to the flush budget.
  void stop(std::string_view reason);

  /// Ends the connection at once with reason (first reason given wins); sending and reading stop.
  void fail(std::string_view reason);

  /// --idle-timeout: when the client has sent nothing since cutoff, tells it so and stops reading as
  /// stop() does (the others are told "idle timeout").
  void expire_if_silent_since(Clock::time_point cutoff);

  /// A connection still not admitted at its password deadline is told "! password required" and closed.
  void expire_admission(Clock::time_point now);

  /// True while the room has a password and the client has not given it: it is not a member.
  bool waiting_for_password() const noexcept {
    return admission_ && admission_->state() == AdmissionState::waiting;
  }

 private:
  template <class AnySession, class End>
  friend void take_admission_line(AnySession& session, std::string_view line, End end);

  enum class ReadState { drained, done };

  // Lifecycle (session.cpp)
  /// Joins the chat room (chat service) and logs the connection.
  void join();
  /// Reading has ended: leaves the room and spawns close().
  void finish_reading();
  /// Leaves the room, flushes within the flush budget, closes, logs.
  Awaitable<void> close();
  /// After our FIN: reads and drops what the client still sends, until its EOF, the linger or deadline.
  Awaitable<void> drain(Clock::time_point deadline);
  /// Records why the connection ends (the first reason wins); tell_room: the others are told it too.
  void set_reason(std::string_view reason, bool tell_room);
  void leave_room() noexcept;
  /// Makes the client a member: the room's welcome, and its join notice per the quiet-join rules.
  void join_room();
  /// Handles a line from a client that has not given the password yet (never logged: it may hold one).
  void on_admission_line(std::string_view line);
  /// Sends the client one line of the server's own, outside the room.
  void tell(std::string_view text);

  // TLS (session_tls.cpp)
  /// Starts the handshake deadline.
  void start_tls();
  /// The handshake is complete: joins the room and logs the connection.
  void on_tls_open();
  /// Reads plaintext into buffer: from the socket, or through TLS. error as from read_some (eof at the
  /// end of the stream, would_block when there is nothing more for now).
  std::size_t receive(std::span<char> buffer, std::error_code& error);
  /// One close_notify, written if the socket takes it now; never waits for the client's.
  void close_tls() noexcept;
  /// True while there is something to write: queued lines, or ciphertext not yet sent.
  bool has_output() const noexcept { return !outbox_.empty() || (tls_ && tls_->has_output()); }

  // Reading (session_reader.cpp)
  void spawn_reader();
  /// Waits for the socket to become readable without a coroutine, then spawns the next reader.
  void wait_readable();
  void on_readable(const std::error_code& error);
  /// Reads while the socket has data, pausing for the flood limit: drained when the socket is empty,
  /// done when reading has ended.
  Awaitable<ReadState> read_loop();
  /// Frames data; with a flood limit only whole lines while tokens last. Returns the bytes used.
  std::size_t feed(std::string_view data);
  /// Handles one framed event; false stops reading.
  bool on_frame(FrameKind kind, std::string_view line);
  /// Sends the telnet answers the framer has collected, if any.
  void send_replies();
  /// Echo service with a --message-pause: the client's unfinished line waits for the pause to pass.
  bool holds_message() const noexcept;
  /// Echo service: the client's unfinished line is a message when nothing follows within the pause.
  Awaitable<void> wait_out_message_pause();
  /// The first time the flood limit pauses reading: tells the client and logs it.
  void note_paced();
  /// Keeps the part of the shared read buffer a flood pause left unread.
  void keep_unread(std::string_view rest);
  void end_reading(std::string_view reason);

  // Writing (session_writer.cpp)
  /// Writes what send() queued during this turn of the loop, after the turn: one write for all of it.
  void schedule_flush();
  void flush();
  /// Starts write_loop() for what the kernel would not take at once.
  void start_writer();
  /// Waits for the socket to take more, while the outbox holds what the kernel would not take at once.
  Awaitable<void> write_loop();
  /// After reading ended: writes everything queued, waiting for the client, until deadline.
  Awaitable<void> flush_for_close(Clock::time_point deadline);
  /// Hands queued lines to the kernel without waiting, until the outbox is empty (true) or the socket is
  /// full (false); a write error fails the session (false).
  bool write_now();

  Socket socket_;
  const SessionContext& context_;
  Outbox outbox_;
  InputFramer framer_;
  FloodLimit bucket_;
  Timer timer_;                          // flood pauses while reading, then the flush and drain deadlines
  asio::cancellation_signal read_stop_;  // stops the reader's wait without touching the writer's write
  std::string backlog_;                  // unread part of a chunk during a flood pause
  std::size_t backlog_used_ = 0;
  ConnectionStats stats_;
  std::string room_reason_;  // what the others are told when this member leaves; empty for eof and /quit
  Clock::time_point started_;
  Clock::time_point now_;                   // time of the chunk being framed, for the token bucket
  Clock::time_point last_heard_;            // when the client last sent something (--idle-timeout)
  std::optional<RoomAdmission> admission_;  // set when the room has a password
  ChatRoom::MemberId id_ = 0;
  bool joined_ = false;
  bool reading_done_ = false;
  bool failed_ = false;
  bool closing_ = false;  // close() has begun
  bool flush_scheduled_ = false;
  bool writing_ = false;              // the writer coroutine exists
  std::uint64_t telnet_replies_ = 0;  // messages of telnet answers: not lines, not counted as lines out
  bool crlf_ = false;                 // the client ends its lines in CRLF, and the room knows
  bool paced_ = false;                // told once that the flood limit paces it
  bool tls_opened_ = false;           // on_tls_open() has run
  std::optional<TlsStream> tls_;      // with TLS
};

}  // namespace dschat::async
