#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/address_counter.hpp"
#include "core/chat_room.hpp"
#include "core/denial_log.hpp"
#include "core/exit_code.hpp"
#include "log/connection_logger.hpp"
#include "modes/async/io_types.hpp"
#include "modes/async/relay_link.hpp"
#include "modes/async/session.hpp"
#include "modes/async/session_context.hpp"
#include "modes/async/web_session.hpp"
#include "modes/serve_options.hpp"
#include "net/accept_loop.hpp"
#include "net/periodic_timer.hpp"
#include "net/termination_signals.hpp"
#include "net/tls_context.hpp"

namespace dschat::async {

/// serve --mode async: one event-loop thread, C++20 coroutines; chat service by default, echo on request;
/// with --web-port also the chat page and its WebSocket.
/// Runs until SIGINT/SIGTERM, then tells the clients, flushes for up to 2 s and returns ok.
ExitCode run_server(const ServeOptions& options, const ConnectionLog& log);

/// The warning to log at start when the room password could be read on the way to a server listening on
/// bound: "password sent in clear: listening on HOST without TLS"; none without a password, with TLS or on
/// loopback.
std::optional<std::string> password_exposure(const ServeOptions& options, const asio::ip::address& bound);

/// The async server: the accept loop that starts one Session per client, the chat room they share, and
/// the signal watcher that shuts everything down. Everything runs on one io_context thread.
class Server {
 public:
  /// Listens on the options' address (throws Error when it cannot) and installs the signal handlers.
  Server(const ServeOptions& options, const ConnectionLog& log);

  /// Announces the address, serves until a signal and every session has finished; returns the exit code.
  ExitCode run();

 private:
  /// Starts a session for each connection of one accept turn (their joins announced together), or turns
  /// it away: closed without a byte when --allow/--deny refuse its address, told so past --max-clients or
  /// --max-per-ip.
  void admit(std::vector<Accepted>& batch);
  /// The same for the web endpoint (--web-port): a WebSession each, or a 503 (over https: closed without
  /// a byte) past --max-clients or --max-per-ip, which counts chat and web connections together.
  void admit_web(std::vector<Accepted>& batch);
  /// Connections served now, TCP and web: --max-clients counts both.
  std::size_t connections() const noexcept { return sessions_.size() + web_sessions_.size(); }
  /// After shutdown began: once every connection has finished, lets run() return.
  void check_done();
  Awaitable<void> watch_signals();
  /// Starts a session for accepted, coming from address; false when it could not.
  bool start_session(Accepted& accepted, const IpAddress& address);
  /// Turns a connection away past a limit: told notice and closed, or on a TLS port closed without a byte;
  /// logged for reason.
  void turn_away(Accepted& accepted, std::string_view notice, std::string_view reason);
  /// Closes a denied connection and logs it at a limited rate (DenialLog).
  void deny(Accepted& accepted);
  /// Waits for DenialLog's counted denials to be due, then logs them; nothing when none or already waiting.
  void arm_denial_timer();
  /// Logs the denials DenialLog has counted once they are due (or at once with force).
  void flush_denials(bool force);
  void begin_shutdown(int signal_number);
  void on_session_end(const std::shared_ptr<Session>& session, const std::exception_ptr& error);
  /// A connection (a Session or a WebSession) has ended: --max-per-ip no longer counts it.
  void uncount_address(const void* connection) noexcept;

  const ServeOptions& options_;
  const ConnectionLog& log_;
  // Declared before io_ so that they outlive it: destroying io_ destroys any coroutine still suspended,
  // and a session destroyed that way still leaves the room and reads the context.
  std::vector<char> read_buffer_;
  std::optional<TlsContext> tls_;  // --tls: made before listening, so that a bad file fails first
  std::optional<ChatRoom> room_;
  SessionContext context_;
  WebContext web_context_;
  Message shutting_down_;
  asio::io_context io_{1};  // one thread: the concurrency hint lets Asio skip its internal locking
  // --relay: after io_, whose executor it takes; before the sessions, which tell it when they leave.
  std::optional<RelayLink> relay_link_;
  asio::ip::tcp::acceptor acceptor_;
  AcceptLoop accept_loop_;
  std::optional<asio::ip::tcp::acceptor> web_acceptor_;
  std::optional<AcceptLoop> web_accept_loop_;
  PeriodicTimer idle_sweep_;
  PeriodicTimer room_clock_;
  PeriodicTimer web_ping_;
  TerminationSignals signals_;
  asio::steady_timer denial_timer_;  // armed while DenialLog holds denials not logged yet
  std::unordered_set<std::shared_ptr<Session>> sessions_;
  DenialLog denials_;
  AddressCounter per_ip_;                                 // --max-per-ip only
  std::unordered_map<const void*, IpAddress> addresses_;  // --max-per-ip only: the Sessions and WebSessions
                                                          // per_ip_ counts, and their addresses
  bool denial_timer_armed_ = false;
  std::unordered_set<std::shared_ptr<WebSession>> web_sessions_;
  bool stopping_ = false;
};

}  // namespace dschat::async
