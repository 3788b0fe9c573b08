#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dschat {

/// A server's address as typed on a command line: a host and a port.
struct HostPort {
  std::string host;        ///< a host name, an IPv4 address or an IPv6 one (without its brackets)
  std::uint16_t port = 0;  ///< 1–65535
  bool operator==(const HostPort&) const = default;
};

/// Parses `HOST:PORT` or `[IPV6]:PORT` (--relay's authority, bench --connect's entries). A host is a name or
/// an IPv4 address of [A-Za-z0-9.-], at most 253 characters, or an IPv6 address in brackets. On failure
/// returns nullopt and, when error is given, sets it to the reason: "no host", "no :PORT", "no ']' after
/// the IPv6 address", "bad IPv6 address", "an IPv6 address goes in brackets, [::1]:PORT", "bad host name"
/// or "the port must be 1-65535".
std::optional<HostPort> parse_host_port(std::string_view text, std::string* error = nullptr);

}  // namespace dschat
