#include "modes/async/session.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <utility>

#include "core/protocol.hpp"
#include "modes/async/asio_compat.hpp"
#include "net/endpoint.hpp"

namespace dschat::async {
namespace {

using namespace asio::experimental::awaitable_operators;

// docs/protocol.md: a closing connection gets this long to take what is queued for it.
constexpr auto flush_budget = std::chrono::seconds(2);

// After our FIN, how long to wait for the client's: long enough for a well-behaved client to read our last
// lines and close, short enough that a client keeping its socket open does not hold up a shutdown.
constexpr auto linger = std::chrono::seconds(1);

}  // namespace

Session::Session(Socket socket, std::string peer, const SessionContext& context)
    : socket_(std::move(socket)),
      context_(context),
      outbox_(context.options.max_queue),
      framer_(context.options.max_line),
      bucket_(flood_budget(context.options), Clock::now()),
      timer_(socket_.get_executor()) {
  stats_.peer = std::move(peer);
}

Session::~Session() {
  leave_room();  // only if close() could not: the room must never keep a pointer to a destroyed peer
}

void Session::open() {
  started_ = last_heard_ = Clock::now();
  std::error_code error;
  // The reader waits for readiness and then reads into the loop's shared buffer; it must never block.
  socket_.non_blocking(true, error);
  if (error) fail(describe(error));
  if (context_.tls != nullptr) {
    start_tls();  // joins once the handshake is complete
  } else {
    join();
  }
}

void Session::join() {
  if (context_.room != nullptr && !context_.options.password.empty()) {
    admission_.emplace(context_.options.password, started_ + password_budget(context_.options));
    tell(RoomAdmission::greeting());
  } else if (context_.room != nullptr) {
    join_room();
  }
  context_.log.connected(stats_.peer, stats_.name);
}

void Session::join_room() {
  ChatRoom* room = context_.room;
  id_ = room->join(*this);
  joined_ = true;
  if (!context_.options.raw) stats_.name = room->name(id_);
  if (crlf_) room->set_crlf(id_);
}

void Session::tell(std::string_view text) {
  send(make_message(text, line_ending(crlf_)));
}

void Session::on_admission_line(std::string_view line) {
  take_admission_line(*this, line, [this](std::string_view reason, bool) { end_reading(reason); });
}

void Session::expire_admission(Clock::time_point now) {
  if (!admission_ || reading_done_) return;
  const std::string_view text = admission_->expire(now);
  if (text.empty()) return;
  tell(text);
  stop("password required");
}

void Session::expire_if_silent_since(Clock::time_point cutoff) {
  if (reading_done_ || last_heard_ >= cutoff) return;
  Message crlf;
  send(crlf_ ? with_crlf(context_.idle_notice, crlf) : context_.idle_notice);
  stop(protocol::idle_reason);
}

void Session::start() {
  spawn_reader();
}

void Session::finish_reading() {
  leave_room();  // at once, as read_loop() does
  asio::co_spawn(socket_.get_executor(), close(),
                 [self = shared_from_this()](const std::exception_ptr& error) {
                   if (error) self->fail("internal error");
                   if (self->context_.ended) self->context_.ended(self, error);
                 });
}

Awaitable<void> Session::close() {
  closing_ = true;  // finish_reading() has left the room

  const auto deadline = Clock::now() + flush_budget;
  co_await flush_for_close(deadline);
  std::error_code ignored;
  if (!failed_) {
    close_tls();
    socket_.shutdown(Socket::shutdown_send, ignored);  // everything sent: our FIN
    co_await drain(deadline);
  }
  socket_.close(ignored);
  stats_.duration = Clock::now() - started_;
  stats_.lines_out -= std::min(stats_.lines_out, telnet_replies_);
  context_.log.disconnected(stats_);
}

void Session::stop(std::string_view reason) {
  if (reading_done_) return;
  set_reason(reason, true);
  reading_done_ = true;
  read_stop_.emit(asio::cancellation_type::terminal);
  timer_.cancel();  // a flood pause
}

void Session::fail(std::string_view reason) {
  set_reason(reason, true);
  if (failed_) return;
  failed_ = true;
  reading_done_ = true;
  std::error_code ignored;
  socket_.cancel(ignored);  // the pending waits complete with operation_aborted
  if (!closing_) timer_.cancel();
}

void Session::set_reason(std::string_view reason, bool tell_room) {
  if (!stats_.reason.empty()) return;
  stats_.reason = reason;
  if (tell_room) room_reason_ = reason;
}

void Session::leave_room() noexcept {
  if (!joined_) return;
  joined_ = false;
  try {
    if (!context_.options.raw) stats_.name = context_.room->name(id_);
    context_.room->leave(id_, room_reason_);
  } catch (const std::exception& e) {
    // Out of memory while formatting the notice: the member is gone either way, only the notice is lost.
    context_.log.logger().error("{}: leaving the room failed: {}", stats_.peer, e.what());
  }
}

Awaitable<void> Session::drain(Clock::time_point deadline) {
  // Closing with unread input makes the kernel send a RST, which can destroy our last lines before the
  // client reads them; so read and drop what the client still sends until its EOF or the linger ends.
  const auto until = std::min(deadline, Clock::now() + linger);
  timer_.expires_at(until);
  const auto buffer = asio::buffer(context_.read_buffer.data(), context_.read_buffer.size());
  while (Clock::now() < until) {
    std::error_code error;
    socket_.read_some(buffer, error);
    if (!error) continue;
    if (error != asio::error::would_block && error != asio::error::try_again) co_return;
    const auto woke = co_await (socket_.async_wait(asio::socket_base::wait_read, use_tuple) ||
                                timer_.async_wait(use_tuple));
    if (woke.index() == 1) co_return;
  }
}

}  // namespace dschat::async
