#pragma once

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/access_list.hpp"

namespace dschat {

/// "127.0.0.1:8080" or "[::1]:8080"; an IPv4 peer of a dual-stack listener shows as IPv4, not ::ffff:….
std::string format_endpoint(const asio::ip::tcp::endpoint& endpoint);

/// The address of endpoint, for --allow/--deny and --max-per-ip (a v4-mapped one as IPv4).
IpAddress ip_address(const asio::ip::tcp::endpoint& endpoint) noexcept;

/// host without the brackets of "[::1]" (the form format_endpoint prints); any other host unchanged.
std::string_view unbracket(std::string_view host) noexcept;

/// "127.0.0.1:8080" or "[::1]:8080" for a host as the user typed it, "::1" or "[::1]".
std::string format_host_port(std::string_view host, std::uint16_t port);

/// An error code's message for a one-line report: "connection refused", "address already in use".
std::string describe(const std::error_code& error);

/// Why a connection ended, from the socket error that ended it: "eof" for none or a clean end of stream,
/// "connection reset" for a reset, a broken pipe or an abort (docs/protocol.md wording), else
/// describe(error).
std::string disconnect_reason(const std::error_code& error);

/// Resolves host:port for TCP (numeric addresses without a DNS lookup, "[::1]" as "::1"); throws Error on
/// failure.
std::vector<asio::ip::tcp::endpoint> resolve(std::string_view host, std::uint16_t port, bool passive);

}  // namespace dschat
