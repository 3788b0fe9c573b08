#include "modes/bench/report.hpp"

#include <fmt/format.h>

#include "core/protocol.hpp"

namespace dschat::bench {

namespace {

std::string kib_text(std::uint64_t kib) {
  return format_bytes(static_cast<std::size_t>(kib) * 1024);
}

/// HOST:PORT, with the protocol when it is not lines, or TLS, or WebSocket.
std::string target_text(const BenchResult& r) {
  if (r.tls) return fmt::format("{} (TLS)", r.target);
  if (r.ws) return fmt::format("{} (WebSocket)", r.target);
  return r.proto == "line" ? r.target : fmt::format("{} ({})", r.target, r.proto);
}

std::string rate_text(const BenchResult& r) {
  if (r.rate <= 0) return fmt::format("flat out (window {})", r.window);
  return fmt::format("{:g} msgs/s offered", r.rate);
}

/// Calls f with the figures of every measured process: the server first, then the others.
template <typename F>
void for_each_process(const BenchResult& r, F f) {
  if (r.server) f(*r.server);
  for (const auto& process : r.more_servers)
    f(process);
}

void append_load(std::string& out, const BenchResult& r) {
  const bool echo = r.scenario == "echo";
  const char* what = echo ? "round trips" : "deliveries";
  out += fmt::format("{} {} — {} clients{}, {} senders, {}, {}-byte lines, {:.1f} s after {:.1f} s warm-up\n",
                     r.scenario, target_text(r), r.clients,
                     r.stuck > 0 ? fmt::format(" (+{} that never read)", r.stuck) : "", r.senders,
                     rate_text(r), r.payload, r.duration_s, r.warmup_s);
  const double loss =
      r.expected == 0 ? 0.0 : 100.0 * static_cast<double>(r.lost()) / static_cast<double>(r.expected);
  out += fmt::format("{:<12} {} in {:.2f} s = {:.0f}/s (expected {}, lost {} = {:.3f} %)\n", what,
                     r.delivered, r.measured_s, r.deliveries_per_s(), r.expected, r.lost(), loss);
  out += fmt::format("{:<12} {} = {:.0f}/s\n", "sent", r.sent,
                     r.duration_s > 0 ? static_cast<double>(r.sent) / r.duration_s : 0.0);
  out += fmt::format("{:<12} {} order violations, {} duplicates, {} unexpected\n", "order",
                     r.order_violations, r.duplicates, r.unexpected);
  const auto latency_line = [&](std::string_view label, const LatencySummary& l) {
    out += fmt::format("{:<12} p50 {}  p90 {}  p99 {}  p99.9 {}  max {}\n", label, format_ns(l.p50),
                       format_ns(l.p90), format_ns(l.p99), format_ns(l.p999), format_ns(l.max));
  };
  latency_line(echo ? "rtt" : "latency", r.latency);
  if (r.servers > 1) {
    if (r.same_server) latency_line("same-server", *r.same_server);
    if (r.cross_server) latency_line("cross-server", *r.cross_server);
  }
  for_each_process(r, [&](const ServerFigures& s) {
    const auto per_million = r.cpu_s_per_million(s);
    out +=
        fmt::format("{:<12} pid {}: {:.2f} CPU-s{}, RSS {} -> {}, peak {}\n", "server", s.pid, s.cpu_seconds,
                    per_million ? fmt::format(" = {:.3f} CPU-s per 1M {}", *per_million, what) : "",
                    kib_text(s.rss_before_kib), kib_text(s.rss_after_kib), kib_text(s.peak_rss_kib));
  });
}

void append_idle(std::string& out, const BenchResult& r) {
  out += fmt::format("idle {} — {} connections, held {:.1f} s\n", target_text(r), r.clients, r.duration_s);
  out += fmt::format("{:<12} {} opened, {} held{}{}\n", "connections", r.opened, r.held,
                     r.all_in_s ? fmt::format(", all in after {:.2f} s", *r.all_in_s) : "",
                     r.first_failure.empty() ? "" : fmt::format(" (first failure: {})", r.first_failure));
  for_each_process(r, [&](const ServerFigures& s) {
    const auto per_connection = r.rss_bytes_per_connection(s);
    out +=
        fmt::format("{:<12} pid {}: RSS {} before, {} with the clients{}, peak {}, {:.2f} CPU-s\n", "server",
                    s.pid, kib_text(s.rss_before_kib), kib_text(s.rss_after_kib),
                    per_connection ? fmt::format(" = {:.2f} KiB per connection", *per_connection / 1024) : "",
                    kib_text(s.peak_rss_kib), s.cpu_seconds);
  });
}

}  // namespace

LatencySummary summarize(const Histogram& h) {
  return LatencySummary{h.count(),        h.min(),           h.quantile(0.5), h.quantile(0.9),
                        h.quantile(0.99), h.quantile(0.999), h.max(),         h.mean()};
}

double BenchResult::deliveries_per_s() const noexcept {
  return measured_s > 0 ? static_cast<double>(delivered) / measured_s : 0.0;
}

std::optional<double> BenchResult::cpu_s_per_million() const noexcept {
  if (!server) return std::nullopt;
  return cpu_s_per_million(*server);
}

std::optional<double> BenchResult::cpu_s_per_million(const ServerFigures& process) const noexcept {
  if (delivered == 0) return std::nullopt;
  return process.cpu_seconds * 1e6 / static_cast<double>(delivered);
}

std::optional<double> BenchResult::rss_bytes_per_connection() const noexcept {
  if (!server) return std::nullopt;
  return rss_bytes_per_connection(*server);
}

std::optional<double> BenchResult::rss_bytes_per_connection(const ServerFigures& process) const noexcept {
  if (held == 0 || process.rss_after_kib == 0) return std::nullopt;
  const double grown =
      static_cast<double>(process.rss_after_kib) - static_cast<double>(process.rss_before_kib);
  return grown * 1024 / static_cast<double>(held);
}

double BenchResult::generator_core_share() const noexcept {
  return generator_wall_s > 0 ? generator_cpu_s / generator_wall_s : 0.0;
}

std::string format_summary(const BenchResult& r) {
  std::string out;
  if (r.scenario == "idle") {
    append_idle(out, r);
  } else {
    append_load(out, r);
  }
  out += fmt::format("{:<12} {:.2f} CPU-s = {:.0f} % of one core\n", "generator", r.generator_cpu_s,
                     100 * r.generator_core_share());
  for (const auto& warning : r.warnings)
    out += fmt::format("warning: {}\n", warning);
  return out;
}

std::string format_progress(double elapsed_s, std::string_view what, double per_s,
                            std::optional<std::uint64_t> p99_ns) {
  return fmt::format("{:6.1f} s  {:>10.0f} {}/s  p99 {}", elapsed_s, per_s, what,
                     p99_ns ? format_ns(*p99_ns) : std::string("-"));
}

std::string format_ns(std::uint64_t ns) {
  const auto v = static_cast<double>(ns);
  if (ns < 1000) return fmt::format("{} ns", ns);
  if (ns < 1000000) return fmt::format("{:.{}f} µs", v / 1e3, ns < 100000 ? 1 : 0);
  if (ns < 1000000000) return fmt::format("{:.{}f} ms", v / 1e6, ns < 100000000 ? 2 : 0);
  return fmt::format("{:.2f} s", v / 1e9);
}

}  // namespace dschat::bench
