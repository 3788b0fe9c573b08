#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dschat {

/// Where a server's cluster relay connects: `nats://[user:pass@|token@]HOST:PORT/ROOM` (--relay).
struct RelayUrl {
  std::string host;                       ///< a host name, an IPv4 address or an IPv6 one (no brackets)
  std::uint16_t port = 0;                 ///< 1–65535
  std::string room;                       ///< [A-Za-z0-9_-]{1,64}: the subject is dschat.room.ROOM
  std::optional<std::string> user;        ///< user of user:pass@
  std::optional<std::string> pass;        ///< password of user:pass@
  std::optional<std::string> auth_token;  ///< token of token@
  bool operator==(const RelayUrl&) const = default;
};

/// True when room is a valid room name, [A-Za-z0-9_-]{1,64}.
bool is_valid_room_name(std::string_view room) noexcept;

/// Parses a --relay URL. On failure returns nullopt and, when error is given, sets it to the reason, e.g.
/// "the port must be 1-65535". Credentials are taken as written (no percent-decoding): printable ASCII but
/// '@', '/' and spaces; the user may not hold ':'.
std::optional<RelayUrl> parse_relay_url(std::string_view text, std::string* error = nullptr);

/// The URL without credentials, for logs: `nats://HOST:PORT` (IPv6 in brackets).
std::string relay_address(const RelayUrl& url);

}  // namespace dschat
