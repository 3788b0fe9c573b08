#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/exit_code.hpp"
#include "modes/bench/server_list.hpp"
#include "modes/tls_client_flags.hpp"

namespace dschat {

/// What `dschat bench` measures (README, bench).
enum class BenchScenario {
  broadcast,  ///< every line of a sender should reach every other client
  echo,       ///< every line comes back to its sender
  idle,       ///< connections that only stay open
};

/// Which protocol the bench clients speak (`--proto`; see bench/wire.hpp).
enum class BenchProto {
  line,   ///< lines: dschat and any other line server
  nats,   ///< a NATS broker: every client subscribes to one subject and publishes to it
  redis,  ///< Redis pub/sub over RESP3: every client subscribes to one channel and publishes to it
};

/// Flags of `dschat bench`.
struct BenchOptions {
  BenchScenario scenario = BenchScenario::broadcast;
  BenchProto proto = BenchProto::line;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  /// --connect: several servers, clients spread round robin (broadcast, echo); empty: host and port.
  std::vector<bench::BenchServer> servers;
  std::size_t clients = 10;
  std::size_t stuck = 0;               ///< more clients that connect but never read (slow consumers)
  std::optional<std::size_t> senders;  ///< unset: every client sends
  double rate = 0;                     ///< messages/s offered in total; 0 = flat out within the window
  std::optional<std::size_t> window;   ///< unset: 32 (broadcast), 1 (echo)
  double duration = 5;                 ///< seconds measured (idle: seconds the connections are held)
  double warmup = 1;                   ///< seconds of load before measuring
  double drain = 5;                    ///< seconds to wait for outstanding deliveries after sending stops
  std::size_t payload = 64;            ///< bytes per line without LF (at least the token)
  std::vector<int> server_pids;  ///< also report these processes' CPU and memory (the first is "the server")
  std::optional<std::string> json;  ///< also write the figures as JSON to this file
  double connect_rate = 0;          ///< new connections per second, 0 = as fast as possible
  TlsClientFlags tls;               ///< every client speaks TLS (line protocol only)
  bool ws = false;  ///< every client speaks WebSocket to a web port, one line a message (line protocol only)
};

/// Runs one benchmark against a line server and prints its summary; failure (exit 1) when the server
/// cannot be reached, does not relay, or goes away during the run.
ExitCode run_bench(const BenchOptions& options);

}  // namespace dschat
