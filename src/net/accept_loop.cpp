#include "net/accept_loop.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/error.hpp>
#include <asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "core/protocol.hpp"
#include "net/endpoint.hpp"
#include "net/process.hpp"

namespace dschat {

namespace {

// Connections taken from the backlog per turn of the loop: enough that a burst of joins is announced in
// few messages, few enough that the clients already connected are served between two batches.
constexpr std::size_t accept_batch = 64;

// After EMFILE the connection stays in the backlog and the listener stays readable: trying again at once
// would spin until a descriptor frees up.
constexpr auto accept_retry = std::chrono::milliseconds(100);

// TCP keepalive on every client (docs/protocol.md, limits): a peer that vanished without a FIN or a RST
// (cable pulled, laptop closed) is found after 60 s of silence and 3 unanswered probes 10 s apart, instead of
// staying a member forever in a quiet room.
constexpr int keepalive_idle_s = 60;
constexpr int keepalive_interval_s = 10;
constexpr int keepalive_probes = 3;

// Descriptors a server holds besides its clients: the listener, epoll, signalfd, timers, eventfds, stdio.
constexpr std::size_t server_fds = 16;

}  // namespace

void configure_client_socket(int fd) noexcept {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepalive_idle_s, sizeof keepalive_idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &keepalive_interval_s, sizeof keepalive_interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &keepalive_probes, sizeof keepalive_probes);
}

AcceptLoop::AcceptLoop(asio::ip::tcp::acceptor& acceptor, bool non_blocking, const ConnectionLog& log,
                       Admit admit)
    : acceptor_(acceptor),
      log_(log),
      admit_(std::move(admit)),
      retry_(acceptor.get_executor()),
      accept_flags_(SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0)) {
  acceptor_.non_blocking(true);  // take_waiting() must never wait for a connection
  batch_.reserve(accept_batch);
}

void AcceptLoop::start() {
  take_waiting();  // connections may have arrived between listen() and now
}

void AcceptLoop::stop() noexcept {
  stopped_ = true;
  retry_.cancel();
}

void AcceptLoop::wait_readable() {
  acceptor_.async_wait(asio::socket_base::wait_read, [this](const std::error_code& error) {
    if (!error && !stopped_) take_waiting();
  });
}

void AcceptLoop::take_waiting() {
  if (stopped_) return;
  batch_.clear();
  int failure = 0;
  while (batch_.size() < accept_batch) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    const int fd =
        ::accept4(acceptor_.native_handle(), reinterpret_cast<sockaddr*>(&address), &size, accept_flags_);
    if (fd < 0) {
      // A connection that failed before it was taken is that client's problem, not the server's.
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) failure = errno;
      break;
    }
    configure_client_socket(fd);
    Accepted& accepted = batch_.emplace_back(Accepted{fd, {}, {}});
    std::memcpy(accepted.remote.data(), &address, std::min<std::size_t>(size, accepted.remote.capacity()));
    accepted.remote.resize(size);
    accepted.peer = format_endpoint(accepted.remote);
  }
  const bool more = batch_.size() == accept_batch;
  if (!batch_.empty()) {
    if (std::exchange(failing_, false)) log_.logger().info("accepting again");
    admit_(batch_);
  }
  if (stopped_) return;
  if (failure != 0) {
    on_failure(std::error_code(failure, asio::error::get_system_category()));
  } else if (more) {
    // The backlog may hold more: take it a turn later, after the clients already connected had theirs.
    asio::post(acceptor_.get_executor(), [this] { take_waiting(); });
  } else {
    wait_readable();  // the backlog is empty: the next connection makes the listener readable again
  }
}

void AcceptLoop::on_failure(const std::error_code& error) {
  if (!std::exchange(failing_, true)) {
    log_.logger().warn("accept failed: {}; retrying every {} ms", describe(error), accept_retry.count());
  }
  // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), the waiting connections stay in the
  // backlog until some are freed; any other failure is retried the same way rather than ending the server
  // or spinning on it.
  retry_.expires_after(accept_retry);
  retry_.async_wait([this](const std::error_code& cancelled) {
    if (!cancelled) take_waiting();
  });
}

void refuse(Accepted& connection, std::string_view notice, std::string_view reason,
            const ConnectionLog& log) noexcept {
  try {
    ConnectionStats stats;
    stats.peer = connection.peer;
    stats.reason = reason;
    log.connected(stats.peer);
    if (!notice.empty()) {
      std::string line(notice);
      line += '\n';
      if (::send(connection.fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
          static_cast<ssize_t>(line.size())) {
        stats.lines_out = 1;
      }
    }
    ::shutdown(connection.fd, SHUT_WR);
    ::close(std::exchange(connection.fd, -1));
    log.disconnected(stats);
  } catch (const std::exception&) {
    // Out of memory for a log line: the connection is still closed, the server goes on.
    if (connection.fd >= 0) ::close(std::exchange(connection.fd, -1));
  }
}

void refuse_full(Accepted& connection, const ConnectionLog& log) noexcept {
  refuse(connection, protocol::server_full, "server full", log);
}

void close_denied(Accepted& connection) noexcept {
  ::close(std::exchange(connection.fd, -1));
}

void check_fd_limit(std::size_t max_clients, const ConnectionLog& log) {
  const auto limit = raise_fd_limit();
  if (!limit) {
    log.logger().warn("cannot read the open-file limit: {}",
                      describe(std::error_code(errno, asio::error::get_system_category())));
  } else if (*limit < max_clients + server_fds) {
    log.logger().warn(
        "open-file limit {} is below --max-clients {} (plus {} for the server): past about {} clients, new "
        "connections wait in the backlog",
        *limit, max_clients, server_fds, *limit > server_fds ? *limit - server_fds : 0);
  }
}

}  // namespace dschat
