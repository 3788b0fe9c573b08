#pragma once

// What every server mode is given: the flags of `dschat serve` and its aliases. The servers include this,
// never their dispatcher (serve.hpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

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
  double idle_timeout = 0;  ///< seconds a client may stay silent before it is closed, 0 = never
  bool raw = false;
  bool verbose = false;
};

/// echo for once and threaded, chat for async.
constexpr Service default_service(ServeMode mode) noexcept {
  return mode == ServeMode::async ? Service::chat : Service::echo;
}

/// 8080 for once and threaded, 8888 for async.
constexpr std::uint16_t default_port(ServeMode mode) noexcept {
  return mode == ServeMode::async ? 8888 : 8080;
}

/// The service the options ask for, or the mode's default.
constexpr Service service_of(const ServeOptions& options) noexcept {
  return options.service.value_or(default_service(options.mode));
}

/// The port the options ask for, or the mode's default.
constexpr std::uint16_t port_of(const ServeOptions& options) noexcept {
  return options.port.value_or(default_port(options.mode));
}

}  // namespace dschat
