// The reading half of a Session: reads into the loop's shared buffer until the socket is drained (the wait
// for more is Session::wait_readable()), framing, and the flood limiter that pauses reading (TCP
// backpressure: the client's lines wait in its own socket buffer).

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "core/protocol.hpp"
#include "modes/async/asio_compat.hpp"
#include "modes/async/session.hpp"
#include "net/endpoint.hpp"

namespace dschat::async {
namespace {

/// What a coroutine of the session threw, as a disconnect reason.
std::string what(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "internal error";
  }
}

}  // namespace

void Session::spawn_reader() {
  asio::co_spawn(socket_.get_executor(), read_loop(),
                 [self = shared_from_this()](const std::exception_ptr& error, ReadState state) {
                   if (error) self->fail(what(error));
                   if (state == ReadState::drained && !self->reading_done_) {
                     self->wait_readable();
                   } else {
                     self->finish_reading();
                   }
                 });
}

void Session::wait_readable() {
  // A plain callback, not a coroutine: most clients of a chat server are idle most of the time, and this
  // pending wait is all such a client holds (docs/robustness.md §3).
  socket_.async_wait(asio::socket_base::wait_read,
                     asio::bind_cancellation_slot(read_stop_.slot(),
                                                  [self = shared_from_this()](const std::error_code& error) {
                                                    self->on_readable(error);
                                                  }));
}

void Session::on_readable(const std::error_code& error) {
  if (error && !reading_done_) fail(disconnect_reason(error));
  if (reading_done_) {
    finish_reading();  // stop() or fail() cancelled the wait
  } else {
    spawn_reader();
  }
}

Awaitable<Session::ReadState> Session::read_loop() {
  const std::span<char> buffer = context_.read_buffer;
  // A full read may be followed by another at once: first let the writers and the other clients run, or
  // one fast sender would hold the loop and fill every outbox before any of them is written.
  bool yield = false;
  while (!reading_done_) {
    const auto pause = bucket_.unlimited() ? Clock::duration::zero() : bucket_.wait(Clock::now());
    if (pause > Clock::duration::zero()) {
      note_paced();
      timer_.expires_after(pause);
      co_await timer_.async_wait(use_tuple);
      yield = false;  // the wait was a turn of its own
      continue;
    }
    if (backlog_used_ < backlog_.size()) {
      backlog_used_ += feed(std::string_view(backlog_).substr(backlog_used_));
      if (backlog_used_ == backlog_.size()) {
        backlog_ = std::string();  // a flood is over: give the memory back
        backlog_used_ = 0;
      }
      continue;
    }
    if (yield) {
      co_await asio::post(socket_.get_executor(), use_tuple);
      if (reading_done_) break;
    }
    // Read before waiting, always: Asio's reactor is edge-triggered, and readiness that arrived while
    // nobody waited (during a flood pause) is not reported again.
    std::error_code error;
    const std::size_t n = receive(buffer, error);
    if (error == asio::error::would_block || error == asio::error::try_again) {
      if (holds_message()) {
        co_await wait_out_message_pause();
        continue;  // read what came, or find the socket drained with nothing held back
      }
      co_return ReadState::drained;
    }
    if (error == asio::error::eof && tls_ && tls_->truncated()) {
      // Without close_notify the end may be an attacker's cut: an unterminated last line is dropped.
      end_reading("closed without TLS close_notify");
      break;
    }
    if (error == asio::error::eof) {
      // The last bytes before EOF count as a line even without an LF (docs/protocol.md).
      framer_.finish([this](FrameKind kind, std::string_view line) { return on_frame(kind, line); });
      end_reading("eof");
      break;
    }
    if (error) {
      fail(disconnect_reason(error));
      break;
    }
    // A short read emptied the socket, so the next one would only say so; a full one may have left more.
    // Through TLS a short read says nothing about the socket: only would_block does.
    if (context_.options.idle_timeout > 0) last_heard_ = Clock::now();
    const std::string_view chunk(buffer.data(), n);
    const std::size_t used = feed(chunk);
    if (used < n && !reading_done_) keep_unread(chunk.substr(used));
    if (!tls_ && n < buffer.size() && backlog_used_ == backlog_.size() && !reading_done_) {
      if (holds_message()) {
        co_await wait_out_message_pause();
        continue;
      }
      co_return ReadState::drained;
    }
    yield = true;
  }
  // Leave at once, not a turn later when closing begins: when many clients go at the same moment, each
  // leaving member's notice must not be queued for all the others that are leaving too.
  leave_room();
  co_return ReadState::done;
}

bool Session::holds_message() const noexcept {
  return context_.room == nullptr && context_.options.message_pause.count() > 0 && framer_.buffered() > 0;
}

Awaitable<void> Session::wait_out_message_pause() {
  using namespace asio::experimental::awaitable_operators;
  // A wait for readiness, not a read: a read that completes while the timer wins would lose its bytes.
  timer_.expires_after(context_.options.message_pause);
  const auto woke =
      co_await (socket_.async_wait(asio::socket_base::wait_read, use_tuple) || timer_.async_wait(use_tuple));
  // More bytes came, or stop() or fail() cancelled the timer: nothing to answer yet.
  if (reading_done_ || woke.index() == 0 || std::get<0>(std::get<1>(woke))) co_return;
  now_ = Clock::now();
  framer_.end_message([this](FrameKind kind, std::string_view line) { return on_frame(kind, line); });
}

void Session::send_replies() {
  std::string& replies = framer_.replies();
  if (replies.empty()) return;
  send(make_raw_message(replies));
  replies.clear();
  ++telnet_replies_;
}

void Session::note_paced() {
  if (std::exchange(paced_, true)) return;
  const std::string notice = pacing_notice(bucket_, context_.options, Clock::now());
  if (joined_) {
    context_.room->tell(id_, notice);
  } else {
    send(make_message(notice, line_ending(framer_.crlf())));
  }
  context_.log.logger().info("{} paced: {}", stats_.peer, pacing_log_text(notice));
}

std::size_t Session::feed(std::string_view data) {
  const auto handle = [this](FrameKind kind, std::string_view line) { return on_frame(kind, line); };
  if (bucket_.unlimited()) {
    framer_.feed(data, handle);
    send_replies();
    return data.size();
  }
  // With a limit, lines are handed to the framer one at a time so that reading can pause after any line
  // and resume at the next one: the limit holds per line, not per read chunk.
  now_ = Clock::now();
  std::size_t used = 0;
  while (used < data.size() && bucket_.wait(now_) == Clock::duration::zero()) {
    const void* lf = std::memchr(data.data() + used, '\n', data.size() - used);
    const std::size_t end = lf == nullptr
                                ? data.size()
                                : static_cast<std::size_t>(static_cast<const char*>(lf) - data.data()) + 1;
    const bool go_on = framer_.feed(data.substr(used, end - used), handle);
    send_replies();
    used = end;
    if (!go_on) return data.size();  // the reader stops: the rest is dropped
  }
  return used;
}

bool Session::on_frame(FrameKind kind, std::string_view line) {
  if (reading_done_) return false;
  // Telnet answers first: after an abort-output, telnet drops what comes before its timing mark's answer.
  send_replies();
  ++stats_.lines_in;
  if (!bucket_.unlimited()) bucket_.take_line(line.size() + 1, now_);
  ChatRoom* room = context_.room;
  if (!crlf_ && framer_.crlf()) {
    crlf_ = true;
    if (joined_) room->set_crlf(id_);
  }
  if (waiting_for_password()) {
    // Not a member yet: the room never sees these lines, and neither does the log.
    if (kind == FrameKind::too_long) {
      tell(too_long_reply(context_.options.max_line));
    } else {
      on_admission_line(line);
    }
  } else if (kind == FrameKind::too_long) {
    if (room != nullptr) {
      room->on_too_long(id_);
    } else {
      Message crlf;
      send(crlf_ ? with_crlf(context_.too_long, crlf) : context_.too_long);
    }
  } else if (room != nullptr) {
    if (context_.options.verbose && !is_pass_command(line)) context_.log.chat_line(room->name(id_), line);
    if (room->on_line(id_, line) == LineResult::close) end_reading("quit");
  } else {
    if (context_.options.verbose) context_.log.chat_line(stats_.peer, line);
    send(make_message(line, line_ending(crlf_)));
    if (is_end_command(line)) end_reading("end");
  }
  return !reading_done_;
}

void Session::keep_unread(std::string_view rest) {
  // rest points into the shared read buffer, which the next session to read will overwrite.
  backlog_.assign(rest);
  backlog_used_ = 0;
}

void Session::end_reading(std::string_view reason) {
  set_reason(reason, false);
  reading_done_ = true;
}

}  // namespace dschat::async
