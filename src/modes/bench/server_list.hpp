#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_port.hpp"

namespace dschat::bench {

/// Most servers `--connect` takes.
inline constexpr std::size_t max_bench_servers = 64;

/// One server to load: a host name or address and a port.
using BenchServer = HostPort;

/// Parses `--connect HOST:PORT,HOST:PORT,…` (an IPv6 address in brackets, `[::1]:8001`; ports 1–65535;
/// 1 to max_bench_servers entries). Throws UsageError with a one-line reason otherwise.
std::vector<BenchServer> parse_server_list(std::string_view text);

}  // namespace dschat::bench
