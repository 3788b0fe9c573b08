// The thread-per-connection server. The main thread runs a small io_context that only accepts, handles
// signals, reaps finished client threads and times the shutdown; every client gets a std::jthread doing
// blocking I/O on its own socket (see threaded_echo.cpp, threaded_chat.cpp).

#include "modes/threaded.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/protocol.hpp"
#include "modes/threaded_clients.hpp"
#include "net/endpoint.hpp"
#include "net/listener.hpp"
#include "net/process.hpp"
#include "net/termination_signals.hpp"

namespace dschat {

namespace {

// After a signal, clients get this long to receive what is queued for them; then they are cut off, so
// the process ends well within the 2 s of DESIGN §3 even on a loaded machine.
constexpr std::chrono::milliseconds kFlushDeadline{1200};

// When accept fails for lack of descriptors or memory, trying again at once would spin.
constexpr std::chrono::milliseconds kAcceptRetry{100};

// Connections taken from the backlog per turn (see take_waiting): their room joins go together.
constexpr std::size_t kAcceptBatch = 64;

bool is_resource_shortage(const std::error_code& error) {
  return error == std::errc::too_many_files_open || error == std::errc::too_many_files_open_in_system ||
         error == std::errc::no_buffer_space || error == std::errc::not_enough_memory;
}

class ThreadedServer {
 public:
  ThreadedServer(const ServeOptions& options, const ConnectionLog& log)
      : options_(options),
        log_(log),
        signals_(io_.get_executor()),
        acceptor_(listen_on(io_, options.host, options.port.value_or(default_port(ServeMode::threaded)))) {
    if (options.service.value_or(default_service(ServeMode::threaded)) == Service::chat) {
      // Leave notices are written through from this thread, a batch of them at a time.
      room_.emplace(ChatRoomOptions{options.raw, options.max_line},
                    [this] { asio::post(io_, [this] { flush_deferred(*room_); }); });
    }
  }

  ~ThreadedServer() {
    // Only reached early through an exception: wake every thread so that the jthreads can join.
    for (auto& [id, client] : clients_) {
      client.connection->request_stop();
      client.connection->abort();
    }
  }

  ThreadedServer(const ThreadedServer&) = delete;
  ThreadedServer& operator=(const ThreadedServer&) = delete;

  /// Serves until signalled and every client thread has been joined.
  ExitCode run() {
    acceptor_.non_blocking(true);  // take_waiting() must not wait for a connection
    announce_listening(acceptor_);
    wait_for_signal();
    accept();
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
        log_.logger().warn("second signal: exiting at once");
        std::_Exit(static_cast<int>(ExitCode::interrupted));
      }
      log_.logger().info("{}: shutting down, clients connected: {}", number == SIGINT ? "SIGINT" : "SIGTERM",
                         clients_.size());
      begin_shutdown();
      wait_for_signal();
    });
  }

  void accept() {
    const asio::any_io_executor executor = sockets_.get_executor();
    acceptor_.async_accept(executor, [this](const std::error_code& error, asio::ip::tcp::socket socket) {
      if (stopping_ || error == asio::error::operation_aborted) return;
      if (error && is_resource_shortage(error)) {
        log_.logger().warn("cannot accept: {}; retrying", describe(error));
        retry_.expires_after(kAcceptRetry);
        retry_.async_wait([this](const std::error_code& cancelled) {
          if (!cancelled && !stopping_) accept();
        });
        return;
      }
      // Any other failure belongs to one connection attempt (ECONNABORTED…), not to the server.
      if (!error) {
        std::vector<asio::ip::tcp::socket> sockets;
        sockets.push_back(std::move(socket));
        take_waiting(sockets);
        admit(sockets);
      }
      accept();
    });
  }

  /// Adds the connections already waiting in the backlog, up to kAcceptBatch in all.
  void take_waiting(std::vector<asio::ip::tcp::socket>& sockets) {
    const asio::any_io_executor executor = sockets_.get_executor();
    while (sockets.size() < kAcceptBatch) {
      std::error_code error;
      asio::ip::tcp::socket socket = acceptor_.accept(executor, error);
      if (error) return;  // would_block: nobody waits; a real failure comes back to async_accept
      sockets.push_back(std::move(socket));
    }
  }

  /// Sets up the clients, seats the chat members in the room together, then starts their threads.
  void admit(std::vector<asio::ip::tcp::socket>& sockets) {
    std::vector<std::uint64_t> admitted;
    std::vector<ChatMember*> members;
    for (auto& socket : sockets) {
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      std::string peer = format_endpoint(socket.remote_endpoint(ignored));
      if (clients_.size() >= options_.max_clients) {
        reject_full(socket, peer);
        continue;
      }
      const std::uint64_t id = next_id_++;
      Client& client = clients_[id];
      client.connection = std::make_unique<Connection>(std::move(socket), std::move(peer));
      try {
        if (room_) client.chat = std::make_unique<ChatMember>(*client.connection, *room_, options_.max_queue);
      } catch (const std::exception& e) {  // no thread or no memory for its writer: refuse this client
        log_.logger().error("cannot serve {}: {}", client.connection->peer(), e.what());
        clients_.erase(id);  // closes the socket
        continue;
      }
      admitted.push_back(id);
      if (room_) members.push_back(client.chat.get());
    }
    if (room_) join_together(*room_, members);
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

  /// Past --max-clients: one line and a close, done here because the point is not to start a thread.
  void reject_full(asio::ip::tcp::socket& socket, const std::string& peer) {
    log_.connected(peer);
    static const std::string line = std::string(protocol::server_full) + '\n';
    std::error_code ignored;
    asio::write(socket, asio::buffer(line), ignored);  // a fresh socket's send buffer is empty: no block
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
    log_.disconnected(ConnectionStats{peer, {}, "server full", {}, 0, 1});
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
    std::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    if (room_) {
      const std::scoped_lock lock(room_->mutex);
      room_->room.broadcast_shutdown();
    }
    for (auto& [id, client] : clients_)
      client.connection->request_stop();
    if (clients_.empty()) return io_.stop();
    deadline_.expires_after(kFlushDeadline);
    deadline_.async_wait([this](const std::error_code& error) {
      if (error) return;
      // Whoever has not taken its output by now is cut off: blocked writes fail and the threads end.
      for (auto& [id, client] : clients_)
        client.connection->abort();
    });
  }

  const ServeOptions& options_;
  const ConnectionLog& log_;
  // Owns the client sockets and is never run: they do blocking I/O only. Declared first because io_ may
  // still hold an aborted accept, and with it a socket of this context, when it is destroyed.
  asio::io_context sockets_;
  asio::io_context io_;         // the main thread's: accept, signals, reaping, shutdown timing
  TerminationSignals signals_;  // constructed before any client thread starts
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_{io_};
  asio::steady_timer deadline_{io_};
  std::optional<LockedRoom> room_;
  std::unordered_map<std::uint64_t, Client> clients_;  // after all its threads use: they are joined first
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
};

}  // namespace

ExitCode run_threaded(const ServeOptions& options, const ConnectionLog& log) {
  const std::size_t fd_limit = raise_fd_limit();
  if (fd_limit != 0 && fd_limit < options.max_clients + 16) {
    log.logger().warn("open-file limit {} is below --max-clients {}: accepting will fail before that",
                      fd_limit, options.max_clients);
  }
  ThreadedServer server(options, log);
  return server.run();
}

}  // namespace dschat
