#include "modes/bench/proc_stats.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

using dschat::bench::own_cpu_seconds;
using dschat::bench::parse_stat_cpu_ticks;
using dschat::bench::parse_status_kib;
using dschat::bench::sample_process;

namespace {

// Captured from a real /proc/PID/stat (fields 14 and 15 are utime 1234, stime 567).
constexpr std::string_view stat_sample =
    "4242 (dschat) S 4100 4242 4100 34816 4242 4194304 1523 0 0 0 1234 567 0 0 20 0 3 0 98765 "
    "23456789 1234 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

constexpr std::string_view status_sample =
    "Name:\tdschat\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t4242\n"
    "VmPeak:\t  123456 kB\nVmSize:\t  120000 kB\nVmHWM:\t    8200 kB\nVmRSS:\t    7100 kB\n"
    "RssAnon:\t    3000 kB\nThreads:\t3\n";

}  // namespace

TEST_CASE("parse_stat_cpu_ticks adds utime and stime") {
  CHECK(parse_stat_cpu_ticks(stat_sample) == 1234 + 567);
}

TEST_CASE("parse_stat_cpu_ticks copes with spaces and parentheses in the command name") {
  const std::string tricky =
      "77 (my (odd) server) name) R 1 77 77 0 -1 4194560 10 0 0 0 42 8 0 0 20 0 1 0 5 1000 10 0\n";
  CHECK(parse_stat_cpu_ticks(tricky) == 50);
}

TEST_CASE("parse_stat_cpu_ticks rejects malformed text") {
  CHECK_FALSE(parse_stat_cpu_ticks(""));
  CHECK_FALSE(parse_stat_cpu_ticks("4242 dschat S 1 2 3"));
  CHECK_FALSE(parse_stat_cpu_ticks("4242 (dschat) S 4100 4242 4100"));  // cut short
}

TEST_CASE("parse_status_kib finds a key's value") {
  CHECK(parse_status_kib(status_sample, "VmHWM") == 8200);
  CHECK(parse_status_kib(status_sample, "VmRSS") == 7100);
  CHECK(parse_status_kib(status_sample, "VmPeak") == 123456);
  CHECK_FALSE(parse_status_kib(status_sample, "VmSwap"));
  CHECK_FALSE(parse_status_kib(status_sample, "Vm"));  // a prefix of a key is no key
  CHECK_FALSE(parse_status_kib("VmRSS:\tlots kB\n", "VmRSS"));
  CHECK(parse_status_kib("VmRSS:\t5 kB", "VmRSS") == 5);  // no final LF
}

TEST_CASE("sample_process reads this very process") {
  const auto sample = sample_process(static_cast<int>(::getpid()));
  REQUIRE(sample);
  CHECK(sample->rss_kib > 0);
  CHECK(sample->peak_rss_kib >= sample->rss_kib);
  CHECK_FALSE(sample_process(0));  // no /proc/0
}

TEST_CASE("own_cpu_seconds and sample_process see the CPU time this process burns") {
  // Burn CPU until own_cpu_seconds has grown by 0.1 s (bounded by 20 s of wall time), then both readings
  // must show the growth: /proc counts in clock ticks (10 ms), so 0.05 s is well above rounding.
  const auto before = sample_process(static_cast<int>(::getpid()));
  REQUIRE(before);
  const double own_before = own_cpu_seconds();
  const auto wall_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  volatile std::uint64_t sink = 0;
  while (own_cpu_seconds() < own_before + 0.1 && std::chrono::steady_clock::now() < wall_deadline) {
    for (std::uint64_t i = 0; i < 1'000'000; ++i) sink = sink + i * i;
  }
  CHECK(own_cpu_seconds() >= own_before + 0.1);
  const auto after = sample_process(static_cast<int>(::getpid()));
  REQUIRE(after);
  CHECK(after->cpu_seconds >= before->cpu_seconds + 0.05);
}
