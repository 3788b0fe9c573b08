// The thread-per-connection server. The main thread runs a small io_context that only accepts, handles
// signals, reaps finished client threads and times the shutdown; every client gets a std::jthread doing
// blocking I/O on its own socket (echo.cpp, chat.cpp).

#include "modes/threaded/server.hpp"

#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "modes/threaded/chat.hpp"
#include "modes/threaded/echo.hpp"
#include "net/accept_loop.hpp"
#include "net/listener.hpp"
#include "net/periodic_timer.hpp"
#include "net/termination_signals.hpp"

namespace dschat::threaded {

namespace {

// After a signal, clients get this long to receive what is queued for them; then they are cut off, so
// the process ends well within the 2 s docs/protocol.md promises, even on a loaded machine.
constexpr std::chrono::milliseconds flush_deadline{1200};

class Server {
 public:
  Server(const ServeOptions& options, const ConnectionLog& log)
      : options_(options),
        log_(log),
        signals_(io_.get_executor()),
        acceptor_(listen_on(io_, options.host, port_of(options))),
        accept_loop_(acceptor_, false, log, [this](std::vector<Accepted>& batch) { admit(batch); }),
        idle_sweep_(io_.get_executor(), idle_sweep_period(options.idle_timeout),
                    [this](PeriodicTimer::Clock::time_point now) {
                      const auto cutoff = now - clock_seconds(options_.idle_timeout);
                      for (auto& [id, client] : clients_)
                        client.connection->expire_if_silent_since(cutoff);
                    }),
        room_clock_(io_.get_executor(), room_tick_period,
                    [this](PeriodicTimer::Clock::time_point now) { room_->tick(now); }) {
    // Asio gives a context its reactor (an epoll and an eventfd) with its first socket: make that happen
    // now, not when a burst of clients has used up the descriptors and the first of them would be refused.
    asio::ip::tcp::socket probe(sockets_);
    probe.open(acceptor_.local_endpoint().protocol());
    if (service_of(options) == Service::chat) {
      // Leave notices are written through from this thread, a batch of them at a time.
      room_.emplace(room_options(options), [this] { asio::post(io_, [this] { room_->flush_deferred(); }); });
    }
  }

  ~Server() {
    // Only reached early through an exception: wake every thread so that the jthreads can join.
    for (auto& [id, client] : clients_) {
      client.connection->request_stop();
      client.connection->abort();
    }
  }

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Serves until signalled and every client thread has been joined.
  ExitCode run() {
    announce_listening(acceptor_);
    wait_for_signal();
    // The room knows the time before the first member joins: a join waits a second to be announced.
    // (Joins before the first tick would still be announced: ChatRoom::tick dates them from itself.)
    if (room_) room_->tick(PeriodicTimer::Clock::now());
    accept_loop_.start();
    if (options_.idle_timeout > 0) idle_sweep_.start();
    if (room_) {
      room_clock_.start();
    }
    io_.run();
    return ExitCode::ok;
  }

 private:
  struct Client {
    std::unique_ptr<Connection> connection;
    std::unique_ptr<ChatMember> chat;  // chat service only; uses the connection, is used by the thread
    std::jthread thread;
  };

  void wait_for_signal() {
    signals_.async_wait([this](const std::error_code& error, int number) {
      if (error) return;
      if (stopping_) {
        log_.logger().warn("{} again: exiting now", signal_name(number));
        std::_Exit(static_cast<int>(ExitCode::interrupted));
      }
      log_.logger().info("{}: shutting down, clients connected: {}", signal_name(number), clients_.size());
      begin_shutdown();
      wait_for_signal();
    });
  }

  /// Sets up the clients of one accept turn, seats the chat members in the room together, then starts
  /// their threads.
  void admit(std::vector<Accepted>& batch) {
    std::vector<std::uint64_t> admitted;
    std::vector<ChatMember*> members;
    for (Accepted& accepted : batch) {
      if (clients_.size() >= options_.max_clients) {
        refuse_full(accepted, log_);
        continue;
      }
      std::optional<asio::ip::tcp::socket> socket;
      try {
        socket.emplace(sockets_, accepted.remote.protocol(), accepted.fd);
      } catch (const std::system_error& e) {
        log_.logger().error("cannot serve {}: {}", accepted.peer, e.what());
        ::close(accepted.fd);
        continue;
      }
      const std::uint64_t id = next_id_++;
      Client& client = clients_[id];
      try {
        client.connection = std::make_unique<Connection>(std::move(*socket), accepted.peer);
        if (room_) client.chat = std::make_unique<ChatMember>(*client.connection, *room_, options_.max_queue);
      } catch (const std::exception& e) {  // no memory, or no thread for its writer: refuse this client
        log_.logger().error("cannot serve {}: {}", accepted.peer, e.what());
        clients_.erase(id);  // closes the socket
        continue;
      }
      admitted.push_back(id);
      if (room_) members.push_back(client.chat.get());
    }
    if (room_) ChatMember::join_together(*room_, members);
    for (const std::uint64_t id : admitted)
      start_thread(id);
  }

  void start_thread(std::uint64_t id) {
    Client& client = clients_[id];
    try {
      // The thread inherits this one's mask, in which signals_ blocked SIGINT and SIGTERM.
      client.thread = std::jthread([this, id, &client] {
        serve(*client.connection, client.chat.get());
        // The last act of the thread: the main thread joins it at once instead of letting it pile up.
        asio::post(io_, [this, id] { reap(id); });
      });
    } catch (const std::system_error& e) {
      log_.logger().error("cannot start a thread for {}: {}", client.connection->peer(), e.what());
      clients_.erase(id);  // leaves the room, closes the socket
    }
  }

  /// Runs on the client's thread; a failure ends only this client.
  void serve(Connection& connection, ChatMember* member) noexcept {
    try {
      if (member != nullptr) {
        serve_chat_client(connection, *member, *room_, options_, log_);
      } else {
        serve_echo_client(connection, options_, log_);
      }
    } catch (const std::exception& e) {
      log_.logger().error("{}: {}", connection.peer(), e.what());
    }
  }

  void reap(std::uint64_t id) {
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    it->second.thread.join();  // it posted this as its last act, so it is about to return
    clients_.erase(it);
    if (stopping_ && clients_.empty()) io_.stop();
  }

  void begin_shutdown() {
    stopping_ = true;
    accept_loop_.stop();
    idle_sweep_.stop();
    room_clock_.stop();
    std::error_code ignored;
    acceptor_.close(ignored);
    if (room_) room_->broadcast_shutdown();
    for (auto& [id, client] : clients_)
      client.connection->request_stop();
    if (clients_.empty()) return io_.stop();
    deadline_.expires_after(flush_deadline);
    deadline_.async_wait([this](const std::error_code& error) {
      if (error) return;
      // Whoever has not taken its output by now is cut off: blocked writes fail and the threads end.
      for (auto& [id, client] : clients_)
        client.connection->abort();
    });
  }

  const ServeOptions& options_;
  const ConnectionLog& log_;
  // Owns the client sockets and is never run: they do blocking I/O only.
  asio::io_context sockets_;
  asio::io_context io_;         // the main thread's: accept, signals, reaping, shutdown timing
  TerminationSignals signals_;  // constructed before any client thread starts
  asio::ip::tcp::acceptor acceptor_;
  AcceptLoop accept_loop_;
  PeriodicTimer idle_sweep_;
  PeriodicTimer room_clock_;
  asio::steady_timer deadline_{io_};
  std::optional<SharedRoom> room_;
  std::unordered_map<std::uint64_t, Client> clients_;  // after all its threads use: they are joined first
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
};

}  // namespace

ExitCode run_server(const ServeOptions& options, const ConnectionLog& log) {
  check_fd_limit(options.max_clients, log);
  Server server(options, log);
  return server.run();
}

}  // namespace dschat::threaded
