#include "modes/bench/run_setup.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "modes/bench/wire.hpp"
#include "net/endpoint.hpp"

namespace dschat::bench {

std::string scenario_name(BenchScenario scenario) {
  switch (scenario) {
    case BenchScenario::broadcast:
      return "broadcast";
    case BenchScenario::echo:
      return "echo";
    case BenchScenario::idle:
      return "idle";
  }
  return "?";
}

BenchResult new_result(const BenchOptions& options) {
  BenchResult result;
  result.scenario = scenario_name(options.scenario);
  if (options.servers.empty()) {
    result.target = format_host_port(options.host, options.port);
  } else {
    for (const auto& server : options.servers) {
      if (!result.target.empty()) result.target += ',';
      result.target += format_host_port(server.host, server.port);
    }
    result.servers = options.servers.size();
  }
  result.proto = std::string(proto_name(options.proto));
  result.tls = options.tls.wanted();
  result.ws = options.ws;
  result.clients = options.clients;
  if (options.scenario != BenchScenario::idle) {
    result.stuck = options.stuck;
    result.senders = std::min(options.senders.value_or(options.clients), options.clients);
    result.rate = options.rate;
    result.window = options.window.value_or(options.scenario == BenchScenario::echo ? 1 : 32);
    result.payload = options.payload;
    result.warmup_s = options.warmup;
  }
  result.duration_s = options.duration;
  return result;
}

std::vector<std::optional<ProcSample>> sample_servers(const BenchOptions& options) {
  std::vector<std::optional<ProcSample>> samples;
  samples.reserve(options.server_pids.size());
  for (const int pid : options.server_pids)
    samples.push_back(sample_process(pid));
  return samples;
}

void add_server_figures(BenchResult& result, const BenchOptions& options,
                        const std::vector<std::optional<ProcSample>>& before,
                        const std::vector<std::optional<ProcSample>>& after) {
  for (std::size_t i = 0; i < options.server_pids.size(); ++i) {
    const int pid = options.server_pids[i];
    if (!before[i] || !after[i]) {
      result.warnings.push_back(fmt::format("process {} is gone: no server figures", pid));
      continue;
    }
    const ServerFigures figures{pid, after[i]->cpu_seconds - before[i]->cpu_seconds, after[i]->peak_rss_kib,
                                before[i]->rss_kib, after[i]->rss_kib};
    if (i == 0) {
      result.server = figures;
    } else {
      result.more_servers.push_back(figures);
    }
  }
}

bool progress_wanted() noexcept {
  return ::isatty(STDERR_FILENO) == 1;
}

void draw_progress(const std::string& text) {
  // \r and "erase to end of line": the line is rewritten in place, never scrolls.
  std::fputs(fmt::format("\r{}\x1b[K", text).c_str(), stderr);
  std::fflush(stderr);
}

void check_generator_load(BenchResult& result) {
  const double share = result.generator_core_share();
  if (share > 0.9) {
    result.warnings.push_back(fmt::format(
        "the generator used {:.0f} % of one core: it may be the bottleneck, not the server", 100 * share));
  }
}

}  // namespace dschat::bench
