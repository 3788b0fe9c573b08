#include "modes/async/server.hpp"

#include <asio/co_spawn.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/protocol.hpp"
#include "modes/async/asio_compat.hpp"
#include "net/endpoint.hpp"
#include "net/listener.hpp"

namespace dschat::async_mode {
namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;

// After EMFILE the pending connection stays in the backlog and the acceptor stays readable: retrying at
// once would spin the loop at 100% until a descriptor frees up.
constexpr auto accept_backoff = std::chrono::milliseconds(100);

// Connections taken from the backlog per turn of the loop (see accept_waiting).
constexpr std::size_t accept_batch = 64;

constexpr std::string_view shutdown_reason = "server shutting down";

std::string_view signal_name(int number) noexcept {
  return number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal";
}

void rethrow(const std::exception_ptr& error) {
  if (error) std::rethrow_exception(error);
}

}  // namespace

Server::Server(const ServeOptions& options, const ConnectionLog& log)
    : options_(options),
      log_(log),
      read_buffer_(read_buffer_size),
      context_{options,
               log,
               nullptr,
               read_buffer_,
               make_message(too_long_reply(options.max_line)),
               "too slow: send queue over " + format_bytes(options.max_queue),
               [this](const std::shared_ptr<Session>& session, const std::exception_ptr& error) {
                 on_session_end(session, error);
               }},
      shutting_down_(make_message(protocol::shutting_down)),
      acceptor_(listen_on(io_, options.host, options.port.value_or(default_port(ServeMode::async)))),
      signals_(io_.get_executor()),
      accept_pause_(io_) {
  if (options.service.value_or(default_service(ServeMode::async)) == Service::chat) {
    room_.emplace(ChatRoomOptions{options.raw, options.max_line});
    context_.room = &*room_;
  }
}

ExitCode Server::run() {
  acceptor_.non_blocking(true);  // accept_waiting() must not wait for a connection
  announce_listening(acceptor_);
  asio::co_spawn(io_, accept_loop(), rethrow);
  asio::co_spawn(io_, watch_signals(), rethrow);
  io_.run();  // returns once the listener, the signal watcher and every session have finished
  return ExitCode::ok;
}

Awaitable<void> Server::accept_loop() {
  while (!stopping_) {
    auto [error, socket] = co_await acceptor_.async_accept(io_.get_executor(), use_tuple);
    if (stopping_ || error == asio::error::operation_aborted) break;
    if (error) {
      log_.logger().warn("accept failed: {}", describe(error));
      accept_pause_.expires_after(accept_backoff);
      co_await accept_pause_.async_wait(use_tuple);
      continue;
    }
    // The joins of one turn tell each member in one message (ChatRoom::begin_joins).
    const JoinBatch joins(context_.room);
    admit(std::move(socket));
    accept_waiting();
  }
}

void Server::accept_waiting() {
  // Every join queues a notice for every member. Accepted one per turn of the loop, a storm of N
  // connections makes each member's writer wake N times and send one notice per write: N² syscalls. Taken
  // together, the joins of a batch leave each member's writer one write for all their notices.
  for (std::size_t taken = 1; taken < accept_batch && !stopping_; ++taken) {
    std::error_code error;
    Socket socket = acceptor_.accept(io_.get_executor(), error);
    if (error) return;  // would_block: nobody waits; a real failure comes back to async_accept
    admit(std::move(socket));
  }
}

void Server::admit(Socket socket) {
  if (sessions_.size() >= options_.max_clients) {
    reject(socket);
  } else {
    start_session(std::move(socket));
  }
}

void Server::start_session(Socket socket) {
  auto session = std::make_shared<Session>(std::move(socket), context_);
  try {
    session->open();
  } catch (const std::exception& e) {
    // Most likely out of memory: refuse this one client, keep serving the others.
    log_.logger().error("cannot start a session: {}", e.what());
    return;
  }
  sessions_.insert(session);
  session->start();
}

void Server::reject(Socket& socket) {
  std::error_code error;
  ConnectionStats stats;
  stats.peer = format_endpoint(socket.remote_endpoint(error));
  stats.reason = "server full";
  log_.connected(stats.peer);
  // A new socket's send buffer is empty, so this short write completes at once and never blocks the loop.
  const std::string line = std::string(protocol::server_full) + "\n";
  socket.write_some(asio::buffer(line), error);
  if (!error) stats.lines_out = 1;
  socket.shutdown(Socket::shutdown_send, error);
  socket.close(error);
  log_.disconnected(stats);
}

Awaitable<void> Server::watch_signals() {
  const auto [error, number] = co_await signals_.async_wait(use_tuple);
  if (error) co_return;
  begin_shutdown(number);
  if (sessions_.empty()) co_return;
  const auto [again, second] = co_await signals_.async_wait(use_tuple);
  if (again) co_return;  // cancelled by on_session_end: every session has finished
  log_.logger().warn("{} again: exiting now", signal_name(second));
  std::fflush(nullptr);
  std::_Exit(static_cast<int>(ExitCode::interrupted));
}

void Server::begin_shutdown(int signal_number) {
  stopping_ = true;
  log_.logger().info("{}: shutting down, clients connected: {}", signal_name(signal_number),
                     sessions_.size());
  std::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_.cancel();
  if (room_) {
    room_->broadcast_shutdown();
  } else {
    for (const auto& session : sessions_)
      session->send(shutting_down_);
  }
  for (const auto& session : sessions_)
    session->stop(shutdown_reason);
}

void Server::on_session_end(const std::shared_ptr<Session>& session, const std::exception_ptr& error) {
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log_.logger().error("session ended by an internal error: {}", e.what());
    }
    session->fail("internal error");
  }
  sessions_.erase(session);
  if (stopping_ && sessions_.empty()) {
    signals_.cancel();
  }
}

}  // namespace dschat::async_mode
