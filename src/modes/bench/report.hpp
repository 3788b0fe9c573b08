#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modes/bench/histogram.hpp"

namespace dschat::bench {

/// Latency percentiles in ns.
struct LatencySummary {
  std::uint64_t count = 0;
  std::uint64_t min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  double mean = 0;
};

/// The percentiles a report shows, taken from a histogram.
LatencySummary summarize(const Histogram& histogram);

/// The server's resource use over the measured window, from /proc/PID.
struct ServerFigures {
  int pid = 0;
  double cpu_seconds = 0;            ///< CPU used during the measured window (load) or the whole run (idle)
  std::uint64_t peak_rss_kib = 0;    ///< VmHWM at the end
  std::uint64_t rss_before_kib = 0;  ///< VmRSS before the clients connected (idle)
  std::uint64_t rss_after_kib = 0;   ///< VmRSS with every client connected (idle)
};

/// Everything one bench run found; printed by format_summary and format_json.
struct BenchResult {
  std::string scenario;        ///< broadcast, echo, idle
  std::string target;          ///< HOST:PORT (several: comma-separated, as --connect)
  std::size_t servers = 1;     ///< servers the clients were spread over, round robin
  std::string proto = "line";  ///< what the clients speak: line, nats, redis
  bool tls = false;            ///< the clients spoke TLS (--tls)
  bool ws = false;             ///< the clients spoke WebSocket (--ws)
  std::size_t clients = 0;
  std::size_t stuck = 0;  ///< clients that never read
  std::size_t senders = 0;
  double rate = 0;  ///< offered messages/s in total, 0 = flat out
  std::size_t window = 0;
  std::size_t payload = 0;
  double duration_s = 0;
  double warmup_s = 0;

  // broadcast and echo
  std::uint64_t sent = 0;      ///< measured messages sent
  std::uint64_t expected = 0;  ///< deliveries they should make
  std::uint64_t delivered = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t order_violations = 0;
  std::uint64_t unexpected = 0;
  double measured_s = 0;  ///< from the measurement start to the last delivery (or the drain's end)
  LatencySummary latency;
  /// With several servers: deliveries between clients of one server, and across servers.
  std::optional<LatencySummary> same_server, cross_server;

  // idle
  std::size_t opened = 0;  ///< connections established
  std::size_t held = 0;    ///< still open at the end of the hold time
  /// From the first connection attempt until every client was in (greeted and answered: a chat server's
  /// welcome, a broker's confirmation); unset when some never were, or the server says nothing.
  std::optional<double> all_in_s;
  std::string first_failure;

  std::optional<ServerFigures> server;      ///< the first --server-pid
  std::vector<ServerFigures> more_servers;  ///< the other --server-pid processes, in their order
  double generator_cpu_s = 0;
  double generator_wall_s = 0;
  std::vector<std::string> warnings;
  std::string error;  ///< why the run failed (exit 1); empty when it completed

  /// expected - delivered, never negative.
  std::uint64_t lost() const noexcept { return delivered >= expected ? 0 : expected - delivered; }
  /// Deliveries (round trips for echo) per second of the measured window.
  double deliveries_per_s() const noexcept;
  /// Server CPU-seconds per million deliveries; nullopt without server figures or deliveries.
  std::optional<double> cpu_s_per_million() const noexcept;
  /// The same for one process's figures (result.server or one of result.more_servers).
  std::optional<double> cpu_s_per_million(const ServerFigures& process) const noexcept;
  /// Server RSS bytes per held connection (idle); nullopt without server figures or connections.
  std::optional<double> rss_bytes_per_connection() const noexcept;
  /// The same for one process's figures.
  std::optional<double> rss_bytes_per_connection(const ServerFigures& process) const noexcept;
  /// Fraction of one core the generator used.
  double generator_core_share() const noexcept;
};

/// The human summary printed on stdout (several lines, each ending in LF).
std::string format_summary(const BenchResult& result);

/// The same figures as one JSON object (ending in LF).
std::string format_json(const BenchResult& result);

/// The live progress line for a terminal (no line ending): elapsed, rate, p99 so far.
std::string format_progress(double elapsed_s, std::string_view what, double per_s,
                            std::optional<std::uint64_t> p99_ns);

/// A duration for people: "850 ns", "12.3 µs", "1.23 ms", "2.50 s".
std::string format_ns(std::uint64_t ns);

}  // namespace dschat::bench
