#include "core/relay_url.hpp"

#include <algorithm>

#include "core/host_port.hpp"

namespace dschat {
namespace {

constexpr std::string_view scheme = "nats://";

bool is_room_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Credentials are sent in CONNECT's JSON, which escapes what it must; refusing the rest keeps a typo such
// as a space or a stray slash from being sent as a password.
bool is_credential(std::string_view s) noexcept {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f && c != '@' && c != '/'; });
}

std::optional<RelayUrl> fail(std::string* error, const char* why) {
  if (error != nullptr) *error = why;
  return std::nullopt;
}

}  // namespace

bool is_valid_room_name(std::string_view room) noexcept {
  return !room.empty() && room.size() <= 64 && std::all_of(room.begin(), room.end(), is_room_char);
}

std::optional<RelayUrl> parse_relay_url(std::string_view text, std::string* error) {
  if (!text.starts_with(scheme)) return fail(error, "it must start with nats://");
  text.remove_prefix(scheme.size());
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return fail(error, "it must end with /ROOM");
  std::string_view authority = text.substr(0, slash);
  const std::string_view room = text.substr(slash + 1);

  RelayUrl url;
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    if (const std::size_t colon = credentials.find(':'); colon != std::string_view::npos) {
      const std::string_view user = credentials.substr(0, colon);
      const std::string_view pass = credentials.substr(colon + 1);
      if (!is_credential(user) || !is_credential(pass)) return fail(error, "bad user:pass@");
      url.user.emplace(user);
      url.pass.emplace(pass);
    } else {
      if (!is_credential(credentials)) return fail(error, "bad token@");
      url.auth_token.emplace(credentials);
    }
  }

  auto address = parse_host_port(authority, error);
  if (!address) return std::nullopt;
  url.host = std::move(address->host);
  url.port = address->port;
  if (!is_valid_room_name(room)) return fail(error, "the room must be 1-64 of A-Z a-z 0-9 _ -");
  url.room.assign(room);
  return url;
}

std::string relay_address(const RelayUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return std::string(scheme) + (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

}  // namespace dschat
