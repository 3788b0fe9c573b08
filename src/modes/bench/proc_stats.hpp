#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dschat::bench {

/// User + system CPU time of all threads, in clock ticks, from the text of /proc/PID/stat (fields 14
/// and 15, counted after the command name, which may itself hold spaces and parentheses); nullopt when
/// the text is malformed.
std::optional<std::uint64_t> parse_stat_cpu_ticks(std::string_view stat) noexcept;

/// The value of a "Key:   123 kB" line of /proc/PID/status in KiB; nullopt when absent or malformed.
std::optional<std::uint64_t> parse_status_kib(std::string_view status, std::string_view key) noexcept;

/// A process's resource use at one moment.
struct ProcSample {
  double cpu_seconds = 0;          ///< user + system, all threads, since it started
  std::uint64_t rss_kib = 0;       ///< resident set now (VmRSS)
  std::uint64_t peak_rss_kib = 0;  ///< highest resident set so far (VmHWM)
};

/// Reads /proc/PID/stat and /proc/PID/status; nullopt when the process does not exist (any more).
std::optional<ProcSample> sample_process(int pid);

/// CPU seconds (user + system) this process has used so far.
double own_cpu_seconds() noexcept;

}  // namespace dschat::bench
