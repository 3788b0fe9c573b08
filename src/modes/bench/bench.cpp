#include "modes/bench/bench.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "modes/bench/idle_run.hpp"
#include "modes/bench/load_run.hpp"
#include "modes/bench/run_setup.hpp"
#include "modes/tls_client.hpp"
#include "net/endpoint.hpp"
#include "net/process.hpp"

namespace dschat {

namespace {

void check(const BenchOptions& options) {
  if (options.scenario == BenchScenario::broadcast && options.clients < 2) {
    throw UsageError("broadcast needs at least 2 clients (--clients)");
  }
  if (options.senders && *options.senders == 0) throw UsageError("--senders must be at least 1");
  if (options.window && *options.window == 0) throw UsageError("--window must be at least 1");
  if (options.tls.wanted() && options.proto != BenchProto::line) {
    throw UsageError("--tls works with --proto line only");
  }
  if (options.ws && options.proto != BenchProto::line) throw UsageError("--ws works with --proto line only");
  if (options.ws && options.tls.wanted()) {
    throw UsageError("--ws does not speak TLS (wss): give --ws or the --tls flags, not both");
  }
  if (options.servers.size() > 1 && options.scenario == BenchScenario::idle) {
    throw UsageError("--connect with several servers works with broadcast and echo only");
  }
  if (options.servers.size() > 1 && options.proto != BenchProto::line) {
    throw UsageError("--connect with several servers works with --proto line only");
  }
  for (const int pid : options.server_pids) {
    if (!bench::sample_process(pid)) throw Error(fmt::format("no process {} to measure (--server-pid)", pid));
  }
}

/// The address to load: the first IPv4 one when a name resolves to several, as servers listen on
/// 127.0.0.1 by default and "localhost" may list ::1 first.
asio::ip::tcp::endpoint pick_endpoint(const std::string& host, std::uint16_t port) {
  auto endpoints = resolve(host, port, false);
  std::stable_partition(endpoints.begin(), endpoints.end(),
                        [](const auto& e) { return e.address().is_v4(); });
  return endpoints.front();
}

/// One address per server, in the order given (--connect), or the one of --host and --port.
std::vector<asio::ip::tcp::endpoint> pick_endpoints(const BenchOptions& options) {
  if (options.servers.empty()) return {pick_endpoint(options.host, options.port)};
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& server : options.servers)
    endpoints.push_back(pick_endpoint(server.host, server.port));
  return endpoints;
}

void write_json(const std::string& path, const std::string& json) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json;
  out.flush();
  if (!out) throw Error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

}  // namespace

ExitCode run_bench(const BenchOptions& options) {
  check(options);
  ignore_sigpipe();
  const auto endpoints = pick_endpoints(options);
  const auto tls_context = make_client_tls(options.tls);
  const TlsContext* tls = tls_context ? &*tls_context : nullptr;
  const bench::BenchResult result = options.scenario == BenchScenario::idle
                                        ? bench::IdleRun(options, endpoints.front(), tls).run()
                                        : bench::LoadRun(options, endpoints, tls).run();
  std::fputs(bench::format_summary(result).c_str(), stdout);
  std::fflush(stdout);
  if (options.json) write_json(*options.json, bench::format_json(result));
  if (!result.error.empty()) {
    std::fputs(fmt::format("dschat: {}\n", result.error).c_str(), stderr);
    return ExitCode::failure;
  }
  return ExitCode::ok;
}

}  // namespace dschat
