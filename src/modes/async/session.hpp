#pragma once

#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "core/chat_room.hpp"
#include "core/line_framer.hpp"
#include "core/outbox.hpp"
#include "core/token_bucket.hpp"
#include "log/connection_logger.hpp"
#include "modes/async/session_context.hpp"

namespace dschat::async_mode {

/// One client of the async server. Owns its socket, outbox, framer and flood limiter; a reader and a writer
/// coroutine serve it. As a ChatPeer it only queues: nothing ever waits for this client's socket but its
/// own writer. Lives in a shared_ptr held by its coroutines.
class Session final : public ChatPeer, public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  /// A session for an accepted, connected socket; context must outlive it.
  Session(asio::ip::tcp::socket socket, const SessionContext& context);
  ~Session() override;

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Logs the connection and joins the chat room (chat service); call once, before run().
  void open();

  /// The connection's life after open(): read until EOF, /quit, `end`, an error or stop(); leave the room;
  /// flush what is queued (bounded by a deadline); close; log. Completes after the writer has finished.
  asio::awaitable<void> run();

  /// Queues msg for the client. An outbox that stays full after offering the kernel what it holds cuts the
  /// client off as too slow: its socket operations are cancelled here, and the room is told later by run(),
  /// never from inside this call.
  void send(const Message& msg) override;

  /// Server shutdown: stop reading; what is queued is still flushed, for up to the flush budget.
  void stop(std::string_view reason);

  /// Ends the connection at once with reason (first reason given wins); sending and reading stop.
  void fail(std::string_view reason);

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> wait_for_writer(Clock::time_point deadline);
  asio::awaitable<void> drain(Clock::time_point deadline);

  /// Frames data; with a flood limit only whole lines while tokens last. Returns the bytes used.
  std::size_t feed(std::string_view data);
  /// Handles one framed event; false stops reading.
  bool on_frame(FrameKind kind, std::string_view line);
  /// Keeps the part of the shared read buffer a flood pause left unread.
  void keep_unread(std::string_view rest);
  void end_reading(std::string_view reason);
  void set_reason(std::string_view reason, bool tell_room);
  void leave_room() noexcept;
  /// Hands queued lines to the kernel without waiting, until the outbox is empty (true) or the socket is
  /// full (false); a write error fails the session (false).
  bool write_now();
  void count_sent(std::span<const asio::const_buffer> pieces, std::size_t written) noexcept;

  asio::ip::tcp::socket socket_;
  const SessionContext& context_;
  Outbox outbox_;
  LineFramer framer_;
  TokenBucket bucket_;
  asio::steady_timer wake_;   // the writer sleeps on it while the outbox is empty; cancel() wakes it
  asio::steady_timer timer_;  // flood pauses while reading, then the flush and drain deadlines
  asio::cancellation_signal read_stop_;  // stops the reader's wait without touching the writer's write
  std::string backlog_;                  // unread part of a chunk during a flood pause
  std::size_t backlog_used_ = 0;
  ConnectionStats stats_;
  std::string room_reason_;  // what the others are told when this member leaves; empty for eof and /quit
  Clock::time_point started_;
  Clock::time_point now_;  // time of the chunk being framed, for the token bucket
  ChatRoom::MemberId id_ = 0;
  bool joined_ = false;
  bool reading_done_ = false;
  bool failed_ = false;
  bool closing_ = false;
  bool writer_done_ = false;
};

}  // namespace dschat::async_mode
