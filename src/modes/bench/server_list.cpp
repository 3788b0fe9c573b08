#include "modes/bench/server_list.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/error.hpp"

namespace dschat::bench {

namespace {

BenchServer parse_server(std::string_view entry) {
  for (const char c : entry) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw UsageError("--connect: a control character in the server list");
    }
  }
  const auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("--connect: bad server '{}': {} (HOST:PORT, comma-separated)", entry, why));
  };
  std::string_view host;
  std::string_view rest;
  if (entry.starts_with('[')) {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) throw bad("no ']' after the IPv6 address");
    host = entry.substr(1, close - 1);
    rest = entry.substr(close + 1);
    if (!rest.starts_with(':')) throw bad("no :PORT");
    rest.remove_prefix(1);
  } else {
    const auto colon = entry.rfind(':');
    if (colon == std::string_view::npos) throw bad("no :PORT");
    host = entry.substr(0, colon);
    rest = entry.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) throw bad("an IPv6 address goes in brackets, [::1]:PORT");
  }
  if (host.empty()) throw bad("no host");
  unsigned port = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
  if (rest.empty() || error != std::errc{} || end != rest.data() + rest.size() || port < 1 || port > 65535) {
    throw bad("the port must be 1-65535");
  }
  return BenchServer{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace

std::vector<BenchServer> parse_server_list(std::string_view text) {
  std::vector<BenchServer> servers;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    if (entry.empty()) throw UsageError("--connect: empty server in the list (HOST:PORT, comma-separated)");
    if (servers.size() == max_bench_servers) {
      throw UsageError(fmt::format("--connect: more than {} servers", max_bench_servers));
    }
    servers.push_back(parse_server(entry));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return servers;
}

}  // namespace dschat::bench
