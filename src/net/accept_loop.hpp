#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "log/connection_logger.hpp"

namespace dschat {

/// A connection just taken from the backlog. Whoever receives it owns fd: hand it to a socket or close it.
struct Accepted {
  int fd;
  asio::ip::tcp::endpoint remote;
  std::string peer;  ///< remote, printable: "127.0.0.1:40312"
};

/// The accepting side of both servers (docs/protocol.md, limits), on the listener's io_context. It waits
/// until the listening socket is readable and takes the connections waiting there, up to a batch per turn of
/// the loop, handing each batch over at once (so a burst of joins can be announced together). When accept
/// fails for lack of descriptors or memory, the connections stay in the backlog and accepting is retried
/// every 100 ms, with one warning per episode: it never spins. Every connection handed over is set up by
/// configure_client_socket().
class AcceptLoop {
 public:
  /// Receives each batch; it owns the descriptors from then on.
  using Admit = std::function<void(std::vector<Accepted>& batch)>;

  /// Accepts from acceptor (listening; made non-blocking here); non_blocking chooses the mode of the
  /// accepted descriptors. acceptor and log must outlive the loop.
  AcceptLoop(asio::ip::tcp::acceptor& acceptor, bool non_blocking, const ConnectionLog& log, Admit admit);

  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;

  /// Starts accepting; call once.
  void start();

  /// No more batches: ends the pending wait or back-off (closing the acceptor is the caller's).
  void stop() noexcept;

 private:
  void wait_readable();
  /// Takes what waits in the backlog, hands it over, then waits, backs off or goes on a turn later.
  void take_waiting();
  /// Logs the first failure of an episode of failed accepts; returns when to try again.
  void on_failure(const std::error_code& error);

  asio::ip::tcp::acceptor& acceptor_;
  const ConnectionLog& log_;
  Admit admit_;
  asio::steady_timer retry_;
  std::vector<Accepted> batch_;
  int accept_flags_;
  bool failing_ = false;  // in an episode of failed accepts: warned once, retrying
  bool stopped_ = false;
};

/// Sets up an accepted client socket: TCP_NODELAY (lines leave at once), and TCP keepalive (60 s idle, 3
/// probes 10 s apart) so that a peer that vanished without a word is found. AcceptLoop calls it.
void configure_client_socket(int fd) noexcept;

/// Turns a connection away: logs it as connected and disconnected for reason, sends notice and a line
/// ending (a new socket's send buffer is empty, so this never blocks) and closes it. An empty notice
/// sends nothing: a TLS port never writes a plaintext line (Server::turn_away() says why).
void refuse(Accepted& connection, std::string_view notice, std::string_view reason,
            const ConnectionLog& log) noexcept;

/// Turns a connection away past --max-clients: refuse() with `! server full`.
void refuse_full(Accepted& connection, const ConnectionLog& log) noexcept;

/// Closes a connection that --allow/--deny refuse, before any byte is written (the caller logs it, at a
/// limited rate).
void close_denied(Accepted& connection) noexcept;

/// Raises the open-file limit as far as allowed and warns on log when the limit cannot hold max_clients
/// connections and the server's own descriptors, or cannot be read. Not fatal: past the limit new
/// connections wait in the backlog (AcceptLoop) and the connected clients are unaffected.
void check_fd_limit(std::size_t max_clients, const ConnectionLog& log);

}  // namespace dschat
