#include "modes/async/server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/protocol.hpp"
#include "modes/async/asio_compat.hpp"
#include "net/endpoint.hpp"
#include "net/listener.hpp"

namespace dschat::async {
namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;

constexpr std::string_view shutdown_reason = "server shutting down";

/// Turns a web connection away past a limit (reason: "server full", "too many connections from this
/// address"): a 503 whose body says why (detail; a new socket's send buffer is empty, so this never
/// blocks), then closes it; over https, closes it without a byte (Server::turn_away() says why).
void refuse_web(Accepted& connection, bool tls, std::string_view reason, std::string_view detail,
                const ConnectionLog& log) noexcept {
  try {
    if (tls) {
      log.logger().info("{} https: {} (closed before the TLS handshake)", connection.peer, reason);
    } else {
      log.logger().info("{} http: {} (503)", connection.peer, reason);
      const std::string response = http_error_response(503, detail);
      [[maybe_unused]] const auto sent =
          ::send(connection.fd, response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
  } catch (const std::exception&) {
    // Out of memory: the connection is closed without an answer.
  }
  ::shutdown(connection.fd, SHUT_WR);
  ::close(std::exchange(connection.fd, -1));
}

/// The server's TLS context for --tls (an ephemeral certificate) or --tls-cert/--tls-key; none without.
std::optional<TlsContext> make_tls(const ServeOptions& options) {
  if (!options.tls) return std::nullopt;
  if (options.tls_cert.empty()) return TlsContext::server_ephemeral();
  return TlsContext::server_from_files(options.tls_cert, options.tls_key);
}

void rethrow(const std::exception_ptr& error) {
  if (error) std::rethrow_exception(error);
}

/// Whether an address is this host's own: loopback, as IPv4, IPv6 or IPv4-mapped IPv6.
bool is_loopback(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

}  // namespace

std::optional<std::string> password_exposure(const ServeOptions& options, const asio::ip::address& bound) {
  // The one place that decides whether the room password can be read on the way: with TLS the chat port
  // and the web port (https, wss) both encrypt, which makes any address safe; without it both are clear.
  const bool tls = options.tls || !options.tls_cert.empty();
  if (options.password.empty() || tls || is_loopback(bound)) return std::nullopt;
  return "password sent in clear: listening on " + bound.to_string() + " without TLS";
}

Server::Server(const ServeOptions& options, const ConnectionLog& log)
    : options_(options),
      log_(log),
      read_buffer_(read_buffer_size),
      tls_(make_tls(options)),
      context_{options,
               log,
               nullptr,
               read_buffer_,
               make_message(too_long_reply(options.max_line)),
               "too slow: send queue over " + format_bytes(options.max_queue),
               make_message(idle_notice(options.idle_timeout)),
               [this](const std::shared_ptr<Session>& session, const std::exception_ptr& error) {
                 on_session_end(session, error);
               }},
      shutting_down_(make_message(protocol::shutting_down)),
      acceptor_(listen_on(io_, options.host, port_of(options))),
      accept_loop_(acceptor_, true, log, [this](std::vector<Accepted>& batch) { admit(batch); }),
      idle_sweep_(io_.get_executor(), idle_sweep_period(options.idle_timeout),
                  [this](PeriodicTimer::Clock::time_point now) {
                    const auto cutoff = now - clock_seconds(options_.idle_timeout);
                    for (const auto& session : sessions_)
                      session->expire_if_silent_since(cutoff);
                    for (const auto& session : web_sessions_)
                      session->expire_if_silent_since(cutoff);
                  }),
      room_clock_(io_.get_executor(), room_tick_period,
                  [this](PeriodicTimer::Clock::time_point now) {
                    room_->tick(now);
                    if (options_.password.empty()) return;
                    for (const auto& session : sessions_)
                      session->expire_admission(now);
                    for (const auto& session : web_sessions_)
                      session->expire_admission(now);
                  }),
      web_ping_(io_.get_executor(), options.web_ping,
                [this](PeriodicTimer::Clock::time_point) {
                  for (const auto& session : web_sessions_)
                    session->ping();
                }),
      signals_(io_.get_executor()),
      denial_timer_(io_.get_executor()) {
  if (tls_) context_.tls = &*tls_;
  if (service_of(options) == Service::chat) {
    room_.emplace(room_options(options));
    context_.room = &*room_;
    if (options.relay) {
      relay_link_.emplace(io_.get_executor(), *options.relay, log, *room_);
      room_->set_relay(&*relay_link_);
    }
  }
  if (options.web_port) {
    web_context_.policy.allowed_origins = options.web_origins;
    web_context_.policy.tls = tls_.has_value();  // the page's own origin is https://HOST
    web_context_.ended = [this](const std::shared_ptr<WebSession>& session) {
      web_sessions_.erase(session);
      uncount_address(session.get());
      check_done();
    };
    web_acceptor_.emplace(listen_on(io_, options.host, *options.web_port));
    web_accept_loop_.emplace(*web_acceptor_, true, log,
                             [this](std::vector<Accepted>& batch) { admit_web(batch); });
  }
}

ExitCode Server::run() {
  announce_listening(acceptor_);
  if (tls_) {
    const std::string fingerprint = format_fingerprint(tls_->fingerprint());
    std::fputs(("tls fingerprint " + fingerprint + "\n").c_str(), stdout);
    std::fflush(stdout);
    log_.logger().info("TLS on the chat port{}, certificate {}", web_acceptor_ ? " and the web port" : "",
                       fingerprint);
  }
  if (const auto warning = password_exposure(options_, acceptor_.local_endpoint().address())) {
    log_.logger().warn("{}", *warning);
  }
  if (web_acceptor_) {
    const std::string address = format_endpoint(web_acceptor_->local_endpoint());
    // The same line with or without TLS, which says which scheme to open (the fingerprint line above
    // belongs to the chat port and the web port alike: they share the certificate).
    std::fputs(("web listening on " + address + (tls_ ? " (https)" : "") + "\n").c_str(), stdout);
    std::fflush(stdout);
    log_.logger().info("chat page at {}://{}/", tls_ ? "https" : "http", address);
    web_accept_loop_->start();
    web_ping_.start();
  }
  // The room knows the time before the first member joins: a join waits a second to be announced.
  // (Joins before the first tick would still be announced: ChatRoom::tick dates them from itself.)
  if (room_) room_->tick(PeriodicTimer::Clock::now());
  accept_loop_.start();
  if (options_.idle_timeout > 0) idle_sweep_.start();
  if (room_) {
    room_clock_.start();
  }
  if (relay_link_) relay_link_->start();
  asio::co_spawn(io_, watch_signals(), rethrow);
  io_.run();  // returns once the listener, the signal watcher and every session have finished
  return ExitCode::ok;
}

void Server::admit(std::vector<Accepted>& batch) {
  // The joins of one turn tell each member in one message (ChatRoom::begin_joins): accepted one per turn,
  // a storm of N connections would cost each member N writes of one notice each.
  const JoinBatch joins(context_.room);
  for (Accepted& accepted : batch) {
    const IpAddress address = ip_address(accepted.remote);
    if (!options_.access.permits(address)) {
      deny(accepted);
    } else if (connections() >= options_.max_clients) {
      turn_away(accepted, protocol::server_full, "server full");
    } else if (options_.max_per_ip > 0 && !per_ip_.try_add(address, options_.max_per_ip)) {
      turn_away(accepted, protocol::too_many_from_address, "too many connections from this address");
    } else if (!start_session(accepted, address) && options_.max_per_ip > 0) {
      per_ip_.remove(address);
    }
  }
}

void Server::admit_web(std::vector<Accepted>& batch) {
  for (Accepted& accepted : batch) {
    const IpAddress address = ip_address(accepted.remote);
    if (!options_.access.permits(address)) {
      deny(accepted);
      continue;
    }
    if (connections() >= options_.max_clients) {
      refuse_web(accepted, tls_.has_value(), "server full", "server full", log_);
      continue;
    }
    // One --max-per-ip for the server: chat and web connections from an address count together, as a
    // person with a terminal and a browser tab is one person (docs/protocol.md, limits).
    if (options_.max_per_ip > 0 && !per_ip_.try_add(address, options_.max_per_ip)) {
      refuse_web(accepted, tls_.has_value(), "too many connections from this address",
                 "too many connections from your address", log_);
      continue;
    }
    std::shared_ptr<WebSession> session;
    try {
      Socket socket(io_.get_executor(), accepted.remote.protocol(), accepted.fd);
      accepted.fd = -1;  // the socket owns it
      session =
          std::make_shared<WebSession>(std::move(socket), std::move(accepted.peer), context_, web_context_);
      if (options_.max_per_ip > 0) addresses_.emplace(session.get(), address);
    } catch (const std::exception& e) {
      log_.logger().error("cannot start a web session: {}", e.what());
      if (accepted.fd >= 0) ::close(accepted.fd);
      if (options_.max_per_ip > 0) per_ip_.remove(address);  // counted above, never emplaced
      continue;
    }
    web_sessions_.insert(session);
    session->start();
  }
}

bool Server::start_session(Accepted& accepted, const IpAddress& address) {
  std::shared_ptr<Session> session;
  try {
    Socket socket(io_.get_executor(), accepted.remote.protocol(), accepted.fd);
    accepted.fd = -1;  // the socket owns it
    session = std::make_shared<Session>(std::move(socket), std::move(accepted.peer), context_);
    session->open();
    if (options_.max_per_ip > 0) addresses_.emplace(session.get(), address);
  } catch (const std::exception& e) {
    // Most likely out of memory: refuse this one client, keep serving the others.
    log_.logger().error("cannot start a session: {}", e.what());
    if (accepted.fd >= 0) ::close(accepted.fd);
    return false;
  }
  sessions_.insert(session);
  session->start();
  return true;
}

void Server::turn_away(Accepted& accepted, std::string_view notice, std::string_view reason) {
  // On a TLS port the notice is not sent. In clear it would be the one plaintext a TLS port ever wrote, and
  // no TLS client could read it anyway: its library takes the line for a malformed record ("wrong version
  // number") and reports that, not the text. Sent through TLS it would take a whole handshake, a session
  // and a signature, for each connection refused precisely because the server is at its limit, so a flood
  // past --max-clients or --max-per-ip would cost what those limits bound. So the connection is closed
  // before any byte: the client sees its handshake cut short, and the log says why.
  refuse(accepted, tls_ ? std::string_view() : notice, reason, log_);
}

void Server::deny(Accepted& accepted) {
  close_denied(accepted);
  if (auto line = denials_.denied(accepted.peer, DenialLog::Clock::now())) {
    log_.logger().info("{}", *line);
    return;
  }
  // Denials within a second of the last line are told together when the second is over: a scan or a
  // flood from a denied network costs the log one line a second.
  arm_denial_timer();
}

void Server::arm_denial_timer() {
  const auto due = denials_.due();
  if (!due || denial_timer_armed_ || stopping_) return;
  denial_timer_armed_ = true;
  denial_timer_.expires_at(*due);
  denial_timer_.async_wait([this](const std::error_code& error) {
    denial_timer_armed_ = false;
    if (error) return;
    flush_denials(false);
    arm_denial_timer();  // in case the timer fired a little early: nothing counted is ever left untold
  });
}

void Server::flush_denials(bool force) {
  if (auto line = denials_.flush(DenialLog::Clock::now(), force)) log_.logger().info("{}", *line);
}

Awaitable<void> Server::watch_signals() {
  const auto [error, number] = co_await signals_.async_wait(use_tuple);
  if (error) co_return;
  begin_shutdown(number);
  if (connections() == 0) co_return;
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
  accept_loop_.stop();
  denial_timer_.cancel();
  flush_denials(true);
  idle_sweep_.stop();
  room_clock_.stop();
  std::error_code ignored;
  acceptor_.close(ignored);
  if (web_acceptor_) {
    web_ping_.stop();
    web_accept_loop_->stop();
    web_acceptor_->close(ignored);
  }
  if (relay_link_)
    relay_link_->stop(shutdown_reason);  // the other servers learn at once, not in 3.5 heartbeats
  if (room_) {
    room_->broadcast_shutdown();
    for (const auto& session : sessions_) {
      if (session->waiting_for_password()) session->send(shutting_down_);  // not a member: told apart
    }
  } else {
    for (const auto& session : sessions_)
      session->send(shutting_down_);
  }
  for (const auto& session : sessions_)
    session->stop(shutdown_reason);
  for (const auto& session : web_sessions_)
    session->stop();  // never ends a session at once: the set stays as it is
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
  uncount_address(session.get());
  check_done();
}

void Server::uncount_address(const void* connection) noexcept {
  if (const auto counted = addresses_.find(connection); counted != addresses_.end()) {
    per_ip_.remove(counted->second);
    addresses_.erase(counted);
  }
}

void Server::check_done() {
  if (stopping_ && connections() == 0) signals_.cancel();
}

ExitCode run_server(const ServeOptions& options, const ConnectionLog& log) {
  check_fd_limit(options.max_clients, log);
  Server server(options, log);
  return server.run();
}

}  // namespace dschat::async
