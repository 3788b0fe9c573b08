#pragma once

// What every server mode is given: the flags of `dschat serve` and its aliases. The servers include this,
// never their dispatcher (serve.hpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/access_list.hpp"
#include "core/chat_room.hpp"
#include "core/flood_limit.hpp"
#include "core/protocol.hpp"
#include "core/relay_url.hpp"

namespace dschat {

/// How a server handles its clients (README).
enum class ServeMode { once, threaded, async };

/// What a server does with each line (docs/protocol.md).
enum class Service { echo, chat };

/// Async chat: the cluster relay (--relay, --node, --relay-heartbeat, --relay-buffer; docs/cluster.md).
struct RelayOptions {
  RelayUrl url;                               ///< the broker and the room
  std::string node;                           ///< this server's name in the room, [a-z0-9-]{1,16}
  std::chrono::milliseconds heartbeat{2000};  ///< a server silent for 3.5 of these is down
  std::size_t buffer = 1024 * 1024;           ///< bytes of envelopes held while the broker is away
};

/// Flags of `dschat serve` and its aliases.
struct ServeOptions {
  ServeMode mode = ServeMode::once;
  std::optional<Service> service;  ///< unset: the mode's default service
  std::string host = "127.0.0.1";
  std::optional<std::uint16_t> port;  ///< unset: the mode's default port
  std::size_t max_line = 4096;
  std::size_t max_queue = 1024 * 1024;
  std::optional<double> rate;  ///< lines per second per client, 0 = unlimited; unset: the service's default
  double burst = 200;
  std::optional<std::size_t> rate_bytes;  ///< bytes per second per client, 0 = no byte limit; unset: default
  std::size_t burst_bytes = 64 * 1024;
  /// Echo services: the bytes of an unfinished line followed by this long a silence are a message; 0 = off.
  std::chrono::milliseconds message_pause{100};
  std::size_t max_clients = 10000;
  double idle_timeout = 0;  ///< seconds a client may stay silent before it is closed, 0 = never
  /// Chat: above this many members joins and leaves are told as a summary every 10 s; 0 = never.
  std::size_t big_room = 100;
  /// Async: who may connect (--allow, --deny and their files); a denied client is closed before any byte.
  AccessPolicy access;
  std::size_t max_per_ip = 0;  ///< async: connections open at once from one address, 0 = no limit
  bool raw = false;
  bool verbose = false;
  /// Async chat: the port of the web endpoint (the page and its WebSocket), 0 = a free one; unset: none.
  std::optional<std::uint16_t> web_port;
  /// Origins allowed to open the WebSocket besides the page's own (--web-origin).
  std::vector<std::string> web_origins;
  /// Async: TLS on the chat port (--tls, or --tls-cert with --tls-key). Without files, an ephemeral
  /// self-signed certificate.
  bool tls = false;
  std::string tls_cert;  ///< --tls-cert: PEM, the certificate then its chain
  std::string tls_key;   ///< --tls-key: PEM, not encrypted
  /// Async with TLS: how long a client has to complete its handshake before it is closed.
  std::chrono::milliseconds handshake_timeout{10000};
  /// How often each WebSocket member is pinged; one that has sent nothing by the next ping is closed.
  std::chrono::milliseconds web_ping{30000};
  /// Async chat: the room password (--password-file or DSCHAT_PASSWORD); empty: none. Never logged.
  std::string password;
  double password_timeout = 20;  ///< seconds a connection has to give the password
  /// Async chat: share the room with other servers through a NATS broker; unset: local only.
  std::optional<RelayOptions> relay;
};

/// How long a connection has to give the room password (--password-timeout).
inline std::chrono::steady_clock::duration password_budget(const ServeOptions& options) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options.password_timeout));
}

/// Chat: how long a newcomer's "* NAME joined" waits for it to stay or speak (docs/protocol.md).
inline constexpr std::chrono::seconds announce_after{1};

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

/// The chat's flood limit, in lines per second per client: 100 unless --rate says otherwise.
inline constexpr double default_chat_rate = 100;

/// The --rate the options ask for, or the service's default: 100 lines/s for chat, none for echo (an echo
/// client only loads itself, and a file piped through it should not take seconds).
constexpr double rate_of(const ServeOptions& options) noexcept {
  return options.rate.value_or(service_of(options) == Service::chat ? default_chat_rate : 0);
}

/// The chat's flood limit in bytes per second per client: a person typing never comes near it, and a room's
/// few busiest senders together stay within what a modest link takes (docs/protocol.md).
inline constexpr std::size_t default_chat_byte_rate = 8 * 1024;

/// The --rate-bytes the options ask for, or the service's default: 8 KiB/s for chat, none for echo.
constexpr std::size_t byte_rate_of(const ServeOptions& options) noexcept {
  return options.rate_bytes.value_or(service_of(options) == Service::chat ? default_chat_byte_rate : 0);
}

/// The flood budget of one client (--rate 0 turns it off, bytes included).
constexpr FloodBudget flood_budget(const ServeOptions& options) noexcept {
  return FloodBudget{rate_of(options), options.burst, static_cast<double>(byte_rate_of(options)),
                     static_cast<double>(options.burst_bytes)};
}

/// The notice for a client the flood limit paces: its lines or its bytes, whichever holds it.
inline std::string pacing_notice(const FloodLimit& limit, const ServeOptions& options,
                                 FloodLimit::Clock::time_point now) {
  return limit.bytes_over(now) ? slow_down_bytes_notice(byte_rate_of(options))
                               : slow_down_notice(rate_of(options));
}

/// The same as the log says it: "more than 100 lines/s, reading paused".
inline std::string_view pacing_log_text(std::string_view notice) noexcept {
  return notice.substr(slow_down_prefix.size());
}

/// The port the options ask for, or the mode's default.
constexpr std::uint16_t port_of(const ServeOptions& options) noexcept {
  return options.port.value_or(default_port(options.mode));
}

/// The chat room the options ask for.
inline ChatRoomOptions room_options(const ServeOptions& options) {
  ChatRoomOptions room;
  room.raw = options.raw;
  room.max_line = options.max_line;
  room.announce_after = announce_after;
  room.big_room = options.big_room;
  return room;
}

}  // namespace dschat
