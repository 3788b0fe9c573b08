// The WebSocket half of a WebSession: after the 101 the client is a room member. Its frames go through
// WsDecoder; each text message is one line (or several, split at LF), each room Message leaves as one text
// frame per line.

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <string>

#include "core/protocol.hpp"
#include "modes/async/asio_compat.hpp"
#include "modes/async/web_session.hpp"
#include "net/endpoint.hpp"

namespace dschat::async {

Awaitable<void> WebSession::serve_websocket(std::string_view early) {
  if (context_.room != nullptr && !context_.options.password.empty()) {
    admission_.emplace(context_.options.password, Clock::now() + password_budget(context_.options));
    tell(RoomAdmission::greeting());
  } else if (context_.room != nullptr) {
    join_room();
  }
  context_.log.connected(stats_.peer, stats_.name);
  deadline_.expires_at(Clock::time_point::max());  // from now on only stop() ends the reader's wait

  std::string_view pending = early;
  while (!reading_done_) {
    while (!pending.empty() && !reading_done_) {
      WsEvent event;
      pending.remove_prefix(decoder_.step(pending, event));
      if (event.kind == WsEventKind::none) continue;
      // The flood limit holds per message: reading pauses here, and the client's frames wait in its socket.
      while (event.kind == WsEventKind::text && !bucket_.unlimited() && !reading_done_) {
        const auto pause = bucket_.wait(Clock::now());
        if (pause <= Clock::duration::zero()) break;
        note_paced();
        if (held_.empty()) {
          // The frames after this one are in the loop's shared buffer, which others fill during the pause.
          held_.assign(pending);
          pending = held_;
        }
        deadline_.expires_after(pause);
        co_await deadline_.async_wait(use_tuple);
        deadline_.expires_at(Clock::time_point::max());
      }
      if (reading_done_ || !on_event(event)) break;
    }
    if (reading_done_) break;
    std::string().swap(held_);  // decoded: an idle client keeps no copy
    const auto [n, error] = co_await read_some();
    if (reading_done_) break;  // stop(), fail() or a close frame cancelled the wait
    if (error) {
      if (error == asio::error::eof) {
        set_reason(eof_reason(), false);
        reading_done_ = true;
      } else {
        fail(disconnect_reason(error));
      }
      break;
    }
    if (context_.options.idle_timeout > 0) last_heard_ = Clock::now();
    awaiting_pong_ = false;  // any bytes show the client is there, a pong or not
    pending = std::string_view(buffer_.data(), n);
  }
  leave_room();  // at once, as Session::read_loop() does
}

bool WebSession::on_event(const WsEvent& event) {
  switch (event.kind) {
    case WsEventKind::text:
      ++stats_.lines_in;
      return on_text(event.data);
    case WsEventKind::ping:
      queue(make_raw_message(ws_pong_frame(event.data)));
      return true;
    case WsEventKind::too_long:
      if (!bucket_.unlimited())
        bucket_.take_line(1, Clock::now());  // its answer costs a line, its bytes none
      if (waiting_for_password()) {
        tell(too_long_reply(context_.options.max_line));
      } else if (joined_) {
        context_.room->on_too_long(id_);
      }
      return true;
    case WsEventKind::close:
      set_reason("eof", false);  // a close frame is the WebSocket's EOF
      send_close(event.code == ws_close::no_status ? ws_close::normal : event.code, {});
      return false;
    case WsEventKind::error:
      set_reason("websocket: " + std::string(event.data), false);
      send_close(event.code, event.data);
      return false;
    default:
      return true;  // pong, none
  }
}

bool WebSession::on_text(std::string_view text) {
  ChatRoom* room = context_.room;
  if (room == nullptr) return true;
  if (text.ends_with('\n')) text.remove_suffix(1);  // "hi\n" is one line, as it is over TCP
  const auto now = Clock::now();
  while (!reading_done_) {
    const std::size_t lf = text.find('\n');
    const std::string_view line = text.substr(0, lf);
    // Each line costs what the same line costs a TCP client: one line and its bytes with an LF.
    if (!bucket_.unlimited()) bucket_.take_line(line.size() + 1, now);
    if (waiting_for_password()) {
      // Not a member yet: the room never sees these lines, and neither does the log.
      if (!on_admission_line(line)) break;
    } else if (!joined_) {
      break;
    } else {
      if (context_.options.verbose && !is_pass_command(line)) context_.log.chat_line(room->name(id_), line);
      if (room->on_line(id_, line) == LineResult::close) {
        set_reason("quit", false);
        send_close(ws_close::normal, {});
      }
    }
    if (lf == std::string_view::npos) break;
    text.remove_prefix(lf + 1);
  }
  return !reading_done_;
}

void WebSession::send(const Message& msg) {
  if (failed_ || close_sent_ || !websocket_) return;
  // The Message is formatted once for the whole room, and may hold several lines (a batch of notices).
  // Each line leaves as one text frame: a header of its own, then the line, gathered from the shared text.
  const std::string_view text = *msg;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t lf = text.find('\n', begin);
    const std::size_t end = lf == std::string_view::npos ? text.size() : lf;
    const WsFrameHeader header = ws_frame_header(WsOpcode::text, end - begin);
    PrefixedSlice frame;
    frame.text = msg;
    frame.begin = static_cast<std::uint32_t>(begin);  // Messages are far below 4 GiB (--max-line: 16 MiB)
    frame.size = static_cast<std::uint32_t>(end - begin);
    std::copy_n(header.bytes.begin(), header.size, frame.prefix.begin());
    frame.prefix_size = static_cast<std::uint8_t>(header.size);
    if (!push(std::move(frame))) return;
    ++stats_.lines_out;
    begin = end + 1;
  }
}

void WebSession::note_paced() {
  if (std::exchange(paced_, true) || context_.room == nullptr) return;
  const std::string notice = pacing_notice(bucket_, context_.options, Clock::now());
  if (joined_) {
    context_.room->tell(id_, notice);
  } else {
    tell(notice);
  }
  context_.log.logger().info("{} paced: {}", stats_.peer, pacing_log_text(notice));
}

void WebSession::send_close(std::uint16_t code, std::string_view reason) {
  reading_done_ = true;
  if (std::exchange(close_sent_, true) || failed_) return;
  queue(make_raw_message(ws_close_frame(code, reason)));
}

void WebSession::join_room() {
  id_ = context_.room->join(*this);
  joined_ = true;
  stats_.name = context_.room->name(id_);
}

void WebSession::tell(std::string_view text) {
  send(make_message(text));
}

bool WebSession::on_admission_line(std::string_view line) {
  take_admission_line(*this, line, [this](std::string_view reason, bool refused) {
    set_reason(reason, false);
    if (refused) {
      send_close(ws_close::policy_violation, reason);
    } else {
      send_close(ws_close::normal, {});
    }
  });
  return !reading_done_;
}

void WebSession::expire_admission(Clock::time_point now) {
  if (!admission_ || !websocket_ || reading_done_) return;
  const std::string_view text = admission_->expire(now);
  if (text.empty()) return;
  tell(text);
  set_reason("password required", false);
  send_close(ws_close::policy_violation, "password required");
  deadline_.cancel();  // the reader waits on it too
}

void WebSession::leave_room() noexcept {
  if (!joined_) return;
  joined_ = false;
  try {
    stats_.name = context_.room->name(id_);
    context_.room->leave(id_, room_reason_);
  } catch (const std::exception& e) {
    context_.log.logger().error("{}: leaving the room failed: {}", stats_.peer, e.what());
  }
}

}  // namespace dschat::async
