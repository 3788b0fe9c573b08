#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modes/bench/bench.hpp"
#include "modes/bench/proc_stats.hpp"
#include "modes/bench/report.hpp"

namespace dschat::bench {

/// Name of a scenario as typed on the command line.
std::string scenario_name(BenchScenario scenario);

/// A result holding what the options say about the run (scenario, target, sizes), no figures yet.
BenchResult new_result(const BenchOptions& options);

/// The figures of each --server-pid process now, in their order; nullopt for one that is gone.
std::vector<std::optional<ProcSample>> sample_servers(const BenchOptions& options);

/// Fills result.server (the first --server-pid) and result.more_servers (the others) from the samples taken
/// before and after the run, or warns that a process is gone when either of its samples is missing.
void add_server_figures(BenchResult& result, const BenchOptions& options,
                        const std::vector<std::optional<ProcSample>>& before,
                        const std::vector<std::optional<ProcSample>>& after);

/// Whether to draw the live progress line: only when stderr is a terminal.
bool progress_wanted() noexcept;

/// Writes text over the progress line on stderr (text without line ending; empty clears it).
void draw_progress(const std::string& text);

/// Adds the warning that the generator itself may be the bottleneck when it used most of a core.
void check_generator_load(BenchResult& result);

}  // namespace dschat::bench
