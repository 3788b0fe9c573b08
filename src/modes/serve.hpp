#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/exit_code.hpp"

namespace dschat {

/// How a server handles its clients (DESIGN §1).
enum class ServeMode { once, threaded, async };

/// What a server does with each line (DESIGN §2).
enum class Service { echo, chat };

/// Flags of `dschat serve` and its aliases.
struct ServeOptions {
  ServeMode mode = ServeMode::once;
  std::optional<Service> service;  ///< unset: the mode's default service
  std::string host = "127.0.0.1";
  std::optional<std::uint16_t> port;  ///< unset: the mode's default port
  std::size_t max_line = 4096;
  std::size_t max_queue = 1024 * 1024;
  double rate = 100;  ///< lines per second per client, 0 = unlimited
  double burst = 200;
  std::size_t max_clients = 10000;
  bool raw = false;
  bool verbose = false;
};

/// echo for once and threaded, chat for async.
Service default_service(ServeMode mode) noexcept;

/// 8080 for once and threaded, 8888 for async.
std::uint16_t default_port(ServeMode mode) noexcept;

/// Runs the server the options describe until it is done (once) or signalled.
ExitCode run_serve(const ServeOptions& options);

}  // namespace dschat
