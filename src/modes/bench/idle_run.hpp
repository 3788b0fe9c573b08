#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <vector>

#include "modes/bench/bench.hpp"
#include "modes/bench/report.hpp"
#include "modes/bench/task_group.hpp"
#include "modes/bench/wakeup.hpp"
#include "modes/bench/wire.hpp"
#include "modes/bench/ws_link.hpp"
#include "net/tls_engine.hpp"

namespace dschat::bench {

/// One idle run: open many connections (reading and dropping whatever the server sends), hold them for
/// the duration, count how many are still open, and measure the server's memory growth.
class IdleRun {
 public:
  /// A run against endpoint, over TLS when tls is set; options and tls must outlive it.
  IdleRun(const BenchOptions& options, const asio::ip::tcp::endpoint& endpoint, const TlsContext* tls);

  /// Runs to the end. Throws Error when no connection could be opened; fewer held than asked is
  /// reported in the result's error.
  BenchResult run();

 private:
  asio::awaitable<void> main(TaskGroup& tasks);
  /// The TLS handshake of connection index (a ConnectPlan's handshake).
  asio::awaitable<std::string> handshake(std::size_t index);
  /// The WebSocket upgrade of connection index (a ConnectPlan's handshake).
  asio::awaitable<std::string> ws_handshake(std::size_t index);
  asio::awaitable<void> hold(std::size_t index);
  /// Writes what connection index's TLS engine has for the socket; returns the write's error.
  asio::awaitable<std::error_code> flush_tls(std::size_t index);
  /// Counts client index in once its chunks show it joined; the last one sets the result's all_in_s.
  void on_chunk(std::size_t index, std::string_view chunk);
  /// on_chunk for a WebSocket client: its messages are what counts, its pongs are written at once.
  void on_ws_chunk(std::size_t index, std::string_view chunk);
  asio::awaitable<void> show_progress();

  const BenchOptions& options_;
  asio::ip::tcp::endpoint endpoint_;
  const TlsContext* tls_;
  asio::io_context io_;
  std::vector<asio::ip::tcp::socket> sockets_;
  std::vector<char> read_buffer_;   ///< shared by every reader (and every TLS handshake)
  std::vector<char> plain_buffer_;  ///< TLS: decrypted chunks, shared
  std::vector<std::optional<TlsEngine>> tls_sessions_;
  std::vector<std::optional<WsLink>> ws_links_;  ///< --ws
  std::uint64_t ws_seed_ = 0;                    ///< --ws: keys and masks of link i come from ws_seed_ + i
  Wire wire_;
  std::vector<MarkerScan> joined_;  ///< per client: has it joined yet
  std::size_t joined_count_ = 0;
  Wakeup::Clock::time_point started_;
  Wakeup progress_wake_;
  std::size_t opened_ = 0;
  std::size_t closed_by_server_ = 0;
  std::string first_close_;  ///< why the server ended the first connection it ended
  bool closing_ = false;
  std::string connect_failure_;
  BenchResult result_;
};

}  // namespace dschat::bench
