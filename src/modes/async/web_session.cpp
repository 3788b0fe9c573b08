// The HTTP half of a WebSession and its life: with TLS a handshake first, then one request head within the
// handshake deadline, one answer, then either the WebSocket (web_session_ws.cpp) or the end of the
// connection.

#include "modes/async/web_session.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/socket_base.hpp>
#include <utility>

#include "core/protocol.hpp"
#include "modes/async/asio_compat.hpp"
#include "net/endpoint.hpp"
#include "web/web_assets.hpp"

namespace dschat::async {
namespace {

using namespace asio::experimental::awaitable_operators;

// DESIGN §8: the request head, or the whole handshake, within 10 s.
constexpr auto handshake_budget = std::chrono::seconds(10);

// docs/protocol.md: a closing connection gets this long to take what is queued for it.
constexpr auto flush_budget = std::chrono::seconds(2);

// After our FIN, how long to wait for the client's (Session::drain() says why).
constexpr auto linger = std::chrono::seconds(1);

}  // namespace

WebSession::WebSession(Socket socket, std::string peer, const SessionContext& context, const WebContext& web)
    : socket_(std::move(socket)),
      context_(context),
      web_(web),
      outbox_(context.options.max_queue),
      bucket_(flood_budget(context.options), Clock::now()),
      deadline_(socket_.get_executor()),
      decoder_(context.options.max_line),
      buffer_(context.read_buffer) {
  stats_.peer = std::move(peer);
}

WebSession::~WebSession() {
  leave_room();  // only if close() could not: the room must never keep a pointer to a destroyed peer
}

void WebSession::start() {
  started_ = last_heard_ = Clock::now();
  std::error_code blocking;
  // Reads try the socket before waiting for it (receive()), and must never block.
  socket_.non_blocking(true, blocking);
  if (blocking) fail(describe(blocking));
  if (context_.tls != nullptr) tls_.emplace(*context_.tls);
  asio::co_spawn(socket_.get_executor(), run(), [self = shared_from_this()](const std::exception_ptr& error) {
    if (error) {
      self->leave_room();
      std::error_code ignored;
      self->socket_.close(ignored);
    }
    if (self->web_.ended) self->web_.ended(self);
  });
}

void WebSession::stop() {
  if (reading_done_) return;
  if (websocket_) {
    set_reason("server shutting down", true);
    send_close(ws_close::going_away, "server shutting down");
  }
  reading_done_ = true;
  deadline_.cancel();  // the reader waits on it too
}

void WebSession::expire_if_silent_since(Clock::time_point cutoff) {
  if (!websocket_ || reading_done_ || last_heard_ >= cutoff) return;
  send(context_.idle_notice);
  set_reason(protocol::idle_reason, true);
  send_close(ws_close::normal, protocol::idle_reason);
  deadline_.cancel();  // the reader waits on it too
}

void WebSession::ping() {
  if (!websocket_ || reading_done_) return;
  if (awaiting_pong_) {
    set_reason("no answer to ping", true);
    send_close(ws_close::policy_violation, "no answer to ping");
    deadline_.cancel();  // the reader waits on it too
    return;
  }
  awaiting_pong_ = true;
  queue(make_raw_message(ws_ping_frame()));
}

Awaitable<void> WebSession::run() {
  // With TLS, its handshake gets --handshake-timeout as on the chat port; on_tls_open() then gives the
  // request head what is left of the whole handshake's budget.
  deadline_.expires_after(tls_ ? context_.options.handshake_timeout
                               : std::chrono::duration_cast<std::chrono::milliseconds>(handshake_budget));
  // Not `co_await read_head() && …`: GCC 12 miscompiles a co_await inside a short-circuit operand.
  const bool complete = co_await read_head();
  if (complete && answer()) co_await serve_websocket(early_);
  co_await close();
}

Awaitable<WebSession::ReadResult> WebSession::read_some() {
  for (;;) {
    ReadResult result;
    result.bytes = receive(result.error);
    if (result.error != asio::error::would_block && result.error != asio::error::try_again) co_return result;
    const auto woke = co_await (socket_.async_wait(asio::socket_base::wait_read, use_tuple) ||
                                deadline_.async_wait(use_tuple));
    if (woke.index() == 1) {
      co_return ReadResult{
          0, std::get<0>(std::get<1>(woke)) ? asio::error::operation_aborted : asio::error::timed_out};
    }
    if (const auto [error] = std::get<0>(woke); error) co_return ReadResult{0, error};
  }
}

std::size_t WebSession::receive(std::error_code& error) {
  if (!tls_) return socket_.read_some(asio::buffer(buffer_.data(), buffer_.size()), error);
  const std::size_t n = tls_->receive(socket_.native_handle(), buffer_, error);
  // Handshake messages the socket would not take at once leave the way frames do.
  if (tls_->has_output() && !failed_) schedule_flush();
  if (tls_->handshake_done() && !tls_opened_) on_tls_open();
  if (error == std::errc::protocol_error) {
    fail(tls_->reason(error));  // a client that does not speak TLS, a bad record: closed at once
    error = asio::error::operation_aborted;
  }
  return n;
}

void WebSession::on_tls_open() {
  tls_opened_ = true;
  // Called from receive(), never while the deadline is waited for.
  const auto budget =
      std::max(std::chrono::duration_cast<Clock::duration>(handshake_budget),
               std::chrono::duration_cast<Clock::duration>(context_.options.handshake_timeout));
  deadline_.expires_at(started_ + budget);
}

std::string_view WebSession::eof_reason() const noexcept {
  // Frames carry their lengths, so a cut cannot pass as a message; the log still tells it apart.
  return tls_ && tls_->truncated() ? "closed without TLS close_notify" : "eof";
}

Awaitable<bool> WebSession::read_head() {
  while (!reading_done_) {
    const auto [n, error] = co_await read_some();
    if (error == asio::error::timed_out) {
      fail(tls_ && !tls_opened_ ? "TLS handshake timed out" : "handshake timed out");
      co_return false;
    }
    if (error) {
      if (!reading_done_)
        set_reason(error == asio::error::eof ? eof_reason() : disconnect_reason(error), false);
      co_return false;
    }
    const std::string_view chunk(buffer_.data(), n);
    const std::size_t used = parser_.feed(chunk);
    if (parser_.state() == HttpParseState::complete) {
      early_.assign(chunk.substr(used));
      co_return true;
    }
    if (parser_.state() == HttpParseState::error) co_return true;
  }
  co_return false;
}

bool WebSession::answer() {
  if (parser_.state() == HttpParseState::error) {
    queue(make_raw_message(http_error_response(parser_.status())));
    set_reason("http " + std::to_string(parser_.status()), false);
    return false;
  }
  const HttpRequest& request = parser_.request();
  const HttpRoute route = route_http_request(request, web_.policy, web_files());
  queue(make_raw_message(http_response(route, request)));
  if (route.action != HttpAction::upgrade) {
    set_reason(request.method + " " + request.path + " " + std::to_string(route.status), false);
    return false;
  }
  websocket_ = true;
  return true;
}

Awaitable<void> WebSession::close() {
  leave_room();
  const auto deadline = Clock::now() + flush_budget;
  co_await flush(deadline);
  std::error_code ignored;
  if (!failed_) {
    if (tls_) tls_->close(socket_.native_handle());  // one close_notify; the client's is never waited for
    socket_.shutdown(Socket::shutdown_send, ignored);
    // Closing with unread input would send a RST that can destroy the answer before the client reads it.
    deadline_.expires_at(std::min(deadline, Clock::now() + linger));
    while (true) {
      const auto woke =
          co_await (socket_.async_read_some(asio::buffer(buffer_.data(), buffer_.size()), use_tuple) ||
                    deadline_.async_wait(use_tuple));
      if (woke.index() == 1 || std::get<0>(std::get<0>(woke))) break;
    }
  }
  socket_.close(ignored);
  stats_.duration = Clock::now() - started_;
  if (websocket_) {
    context_.log.disconnected(stats_);
  } else {
    context_.log.logger().info("{} http: {}", stats_.peer, stats_.reason);
  }
}

void WebSession::set_reason(std::string_view reason, bool tell_room) {
  if (!stats_.reason.empty()) return;
  stats_.reason = reason;
  if (tell_room) room_reason_ = reason;
}

void WebSession::fail(std::string_view reason) {
  set_reason(reason, true);
  if (failed_) return;
  failed_ = true;
  reading_done_ = true;
  std::error_code ignored;
  socket_.cancel(ignored);
  deadline_.cancel();
}

}  // namespace dschat::async
