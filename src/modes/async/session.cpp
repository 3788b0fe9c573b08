#include "modes/async/session.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <utility>

#include "modes/async/asio_compat.hpp"
#include "modes/async/disconnect_reason.hpp"
#include "net/endpoint.hpp"

namespace dschat::async_mode {
namespace {

using namespace asio::experimental::awaitable_operators;

// DESIGN §3: a closing connection gets this long to take what is queued for it.
constexpr auto flush_budget = std::chrono::seconds(2);

// After our FIN, how long to wait for the client's: long enough for a well-behaved client to read our last
// lines and close, short enough that a client keeping its socket open does not hold up a shutdown.
constexpr auto linger = std::chrono::seconds(1);

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

Session::Session(Socket socket, const SessionContext& context)
    : socket_(std::move(socket)),
      context_(context),
      outbox_(context.options.max_queue),
      framer_(context.options.max_line),
      bucket_(context.options.rate, context.options.burst, Clock::now()),
      timer_(socket_.get_executor()) {}

Session::~Session() {
  leave_room();  // only if close() could not: the room must never keep a pointer to a destroyed peer
}

void Session::open() {
  started_ = Clock::now();
  std::error_code error;
  stats_.peer = format_endpoint(socket_.remote_endpoint(error));
  if (error) stats_.peer = "unknown peer";
  socket_.set_option(asio::ip::tcp::no_delay(true), error);
  // The reader waits for readiness and then reads into the loop's shared buffer; it must never block.
  socket_.non_blocking(true, error);
  if (error) fail(describe(error));

  if (ChatRoom* room = context_.room) {
    id_ = room->join(*this);
    joined_ = true;
    if (!context_.options.raw) stats_.name = room->name(id_);
  }
  context_.log.connected(stats_.peer, stats_.name);
}

void Session::start() {
  spawn_reader();
}

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
    socket_.shutdown(Socket::shutdown_send, ignored);  // everything sent: our FIN
    co_await drain(deadline);
  }
  socket_.close(ignored);
  stats_.duration = Clock::now() - started_;
  context_.log.disconnected(stats_);
}

void Session::send(const Message& msg) {
  if (failed_) return;
  const bool was_empty = outbox_.empty();
  if (!outbox_.push(msg)) {
    // The outbox may hold lines its writer has not had a turn to offer the kernel yet: one burst of reads
    // (after the loop was held up, or one large read) fans out before any writer runs. Offer them now, and
    // cut the client only if its socket will not take them either.
    write_now();
    if (failed_) return;
    if (!outbox_.push(msg)) {
      fail(context_.too_slow);
      return;
    }
  }
  if (was_empty) schedule_flush();
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

void Session::end_reading(std::string_view reason) {
  set_reason(reason, false);
  reading_done_ = true;
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

}  // namespace dschat::async_mode
