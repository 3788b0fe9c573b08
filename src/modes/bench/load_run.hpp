#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/line_framer.hpp"
#include "modes/bench/bench.hpp"
#include "modes/bench/delivery_tracker.hpp"
#include "modes/bench/report.hpp"
#include "modes/bench/task_group.hpp"
#include "modes/bench/wakeup.hpp"
#include "modes/bench/wire.hpp"
#include "modes/bench/ws_link.hpp"
#include "net/tls_engine.hpp"

namespace dschat::bench {

/// One broadcast or echo run on one thread: connect, check that the server relays (probe barrier),
/// load with paced or windowed senders, warm up, measure, drain, close.
class LoadRun {
 public:
  /// A run against endpoints (clients spread round robin: client i on endpoints[i % size]), over TLS when
  /// tls is set; options and tls must outlive it.
  LoadRun(const BenchOptions& options, std::vector<asio::ip::tcp::endpoint> endpoints, const TlsContext* tls);

  /// Runs to the end. Throws Error when the server cannot be reached or does not relay; a server that
  /// goes away during the load is reported in the result's error.
  BenchResult run();

 private:
  using Clock = Wakeup::Clock;

  /// One client: its line framer, read and write buffers, its TLS session with --tls, its WebSocket with
  /// --ws; the sender coroutine sleeps on wake.
  struct Client {
    explicit Client(asio::io_context& io) : wake(io.get_executor()) {}
    LineFramer framer{std::size_t{1} << 20};
    std::vector<char> read_buffer;  ///< sized when its reader starts
    std::string out;
    Wakeup wake;
    bool probe_seen = false;
    bool answer_due = false;  ///< the server's keepalive PING waits for its PONG (nats)
    std::optional<TlsEngine> tls;
    std::string ciphertext;  ///< being written (TLS)
    bool writing = false;    ///< a write of ciphertext is in flight (TLS)
    std::optional<WsLink> ws;
    std::string frames;   ///< out as WebSocket frames, being written (--ws)
    std::string replies;  ///< a receiver's pongs or close, being written (--ws)
  };

  asio::awaitable<void> main(TaskGroup& tasks);
  asio::awaitable<bool> probe();
  asio::awaitable<void> measure(TaskGroup& tasks);
  asio::awaitable<void> read(std::size_t index);
  /// Writes what client index says first (Wire::greeting) on its new socket.
  void greet(asio::ip::tcp::socket& socket, std::size_t index);
  /// The TLS handshake of client index (a ConnectPlan's handshake).
  asio::awaitable<std::string> handshake(std::size_t index);
  /// The TLS handshake of stuck client index.
  asio::awaitable<std::string> stuck_handshake(std::size_t index);
  /// The WebSocket upgrade of client index (a ConnectPlan's handshake).
  asio::awaitable<std::string> ws_handshake(std::size_t index);
  /// The WebSocket upgrade of stuck client index.
  asio::awaitable<std::string> stuck_ws_handshake(std::size_t index);
  /// Writes client index's plaintext out (TLS or not); returns the write's error.
  asio::awaitable<std::error_code> write_out(std::size_t index);
  /// Writes what client index's TLS engine has for the socket, unless a write of it is in flight already
  /// (that one writes the rest too); returns the write's error.
  asio::awaitable<std::error_code> flush_tls(std::size_t index);
  asio::awaitable<void> send(std::size_t index);
  asio::awaitable<void> show_progress();
  /// Sleeps until deadline; returns early when the run failed or main_wake_ is notified.
  asio::awaitable<void> pause_until(Clock::time_point deadline);
  void on_chunk(std::size_t receiver, std::string_view chunk);
  void on_line(std::size_t receiver, std::string_view line, std::uint64_t now_ns);
  /// Answers the server's keepalive PING (nats) or WebSocket ping on client index's socket.
  void answer_ping(std::size_t index);
  void connection_lost(const std::error_code& error);
  /// Ends the run with what (the first loss only; none once we are closing).
  void report_loss(std::string what);
  void close_all();
  std::uint64_t now_ns() const noexcept;

  const BenchOptions& options_;
  std::vector<asio::ip::tcp::endpoint> endpoints_;
  const TlsContext* tls_;
  Fanout fanout_;
  Wire wire_;
  std::size_t senders_;
  std::size_t window_;
  asio::io_context io_{1};  // one thread: the concurrency hint lets Asio skip its locking and wake-ups
  std::vector<asio::ip::tcp::socket> sockets_;
  std::vector<asio::ip::tcp::socket> stuck_sockets_;  ///< connected, never read
  std::vector<std::unique_ptr<Client>> clients_;
  std::size_t read_buffer_size_;  ///< per client
  std::vector<std::optional<TlsEngine>> stuck_tls_;
  std::vector<std::optional<WsLink>> stuck_ws_;
  std::uint64_t ws_seed_ = 0;           ///< --ws: keys and masks of client i come from ws_seed_ + i
  std::vector<char> plain_buffer_;      ///< TLS: decrypted chunks, shared (see read_tls_stream)
  std::vector<char> handshake_buffer_;  ///< TLS, WebSocket: shared by the handshakes (see tls_handshake)
  DeliveryTracker tracker_;
  Clock::time_point start_ = Clock::now();
  Wakeup main_wake_;
  Wakeup progress_wake_;
  std::uint64_t load_start_ns_ = 0;  ///< when the senders started: the paced schedule's origin
  std::size_t probes_missing_ = 0;
  bool stop_sending_ = false;
  bool closing_ = false;
  std::string connect_failure_;  ///< thrown as Error after the run
  BenchResult result_;
};

}  // namespace dschat::bench
