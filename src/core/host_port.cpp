#include "core/host_port.hpp"

#include <algorithm>
#include <charconv>

namespace dschat {
namespace {

bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool is_v6_char(char c) noexcept {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

std::optional<HostPort> fail(std::string* error, const char* why) {
  if (error != nullptr) *error = why;
  return std::nullopt;
}

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view text, std::string* error) {
  HostPort out;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return fail(error, "no ']' after the IPv6 address");
    const std::string_view host = text.substr(1, close - 1);
    if (host.empty()) return fail(error, "no host");
    if (!std::all_of(host.begin(), host.end(), is_v6_char) || host.find(':') == std::string_view::npos) {
      return fail(error, "bad IPv6 address");
    }
    out.host.assign(host);
    text.remove_prefix(close + 1);
    if (!text.starts_with(':')) return fail(error, "no :PORT");
    port = text.substr(1);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail(error, "no :PORT");
    const std::string_view host = text.substr(0, colon);
    if (host.empty()) return fail(error, "no host");
    if (host.find(':') != std::string_view::npos)
      return fail(error, "an IPv6 address goes in brackets, [::1]:PORT");
    if (host.size() > 253 || !std::all_of(host.begin(), host.end(), is_host_char)) {
      return fail(error, "bad host name");
    }
    out.host.assign(host);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, status] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.size() > 5 || status != std::errc() || end != port.data() + port.size() ||
      value == 0 || value > 65535) {
    return fail(error, "the port must be 1-65535");
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace dschat
