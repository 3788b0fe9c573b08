#include "modes/bench/proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace dschat::bench {

namespace {

/// Skips spaces, parses one unsigned decimal number at text[pos…] and moves pos past it.
bool next_number(std::string_view text, std::size_t& pos, std::uint64_t& value) noexcept {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t'))
    ++pos;
  const char* first = text.data() + pos;
  const auto [end, error] = std::from_chars(first, text.data() + text.size(), value);
  if (error != std::errc{} || end == first) return false;
  pos = static_cast<std::size_t>(end - text.data());
  return true;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::optional<std::uint64_t> parse_stat_cpu_ticks(std::string_view stat) noexcept {
  // "pid (comm) state ppid …": the name may hold ") ", so the fields start after the LAST ')'.
  const std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::size_t pos = close + 1;
  // Fields after the name: 3 state, 4 ppid … 14 utime, 15 stime. Skip the state word, then 10 numbers.
  while (pos < stat.size() && stat[pos] == ' ')
    ++pos;
  while (pos < stat.size() && stat[pos] != ' ')
    ++pos;
  std::uint64_t value = 0;
  for (int field = 4; field <= 13; ++field) {
    // Some of these (pgrp, tty_nr…) may be negative in theory; none is in practice, but accept '-'.
    while (pos < stat.size() && stat[pos] == ' ')
      ++pos;
    if (pos < stat.size() && stat[pos] == '-') ++pos;
    if (!next_number(stat, pos, value)) return std::nullopt;
  }
  std::uint64_t user = 0;
  std::uint64_t system = 0;
  if (!next_number(stat, pos, user) || !next_number(stat, pos, system)) return std::nullopt;
  return user + system;
}

std::optional<std::uint64_t> parse_status_kib(std::string_view status, std::string_view key) noexcept {
  std::size_t start = 0;
  while (start < status.size()) {
    std::size_t end = status.find('\n', start);
    if (end == std::string_view::npos) end = status.size();
    const std::string_view line = status.substr(start, end - start);
    start = end + 1;
    if (line.size() <= key.size() || !line.starts_with(key) || line[key.size()] != ':') continue;
    std::size_t pos = key.size() + 1;
    std::uint64_t value = 0;
    if (!next_number(line, pos, value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::optional<ProcSample> sample_process(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  const auto stat = read_file(dir + "/stat");
  const auto status = read_file(dir + "/status");
  if (!stat || !status) return std::nullopt;
  const auto ticks = parse_stat_cpu_ticks(*stat);
  if (!ticks) return std::nullopt;
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  ProcSample sample;
  sample.cpu_seconds =
      static_cast<double>(*ticks) / static_cast<double>(ticks_per_second > 0 ? ticks_per_second : 100);
  sample.rss_kib = parse_status_kib(*status, "VmRSS").value_or(0);
  sample.peak_rss_kib = parse_status_kib(*status, "VmHWM").value_or(0);
  return sample;
}

double own_cpu_seconds() noexcept {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace dschat::bench
