#include "modes/bench/server_list.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/host_port.hpp"

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
  std::string why;
  auto address = parse_host_port(entry, &why);
  if (!address) throw bad(why);
  return BenchServer{std::move(address->host), address->port};
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
