#include <fmt/format.h>

#include <cmath>

#include "modes/bench/report.hpp"

// JSON by hand: a dozen flat fields do not justify a JSON library dependency.

namespace dschat::bench {

namespace {

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out += c;
    }
  }
  return out + '"';
}

/// A finite double as JSON; NaN and infinities (not JSON) become null.
std::string number(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : "null";
}

std::string optional_number(std::optional<double> value) {
  return value ? number(*value) : "null";
}

std::string latency_json(const LatencySummary& l) {
  return fmt::format(
      "{{\"count\": {}, \"min\": {}, \"p50\": {}, \"p90\": {}, \"p99\": {}, \"p999\": {}, \"max\": {}, "
      "\"mean\": {}}}",
      l.count, l.min, l.p50, l.p90, l.p99, l.p999, l.max, number(l.mean));
}

std::string optional_latency_json(const std::optional<LatencySummary>& l) {
  return l ? latency_json(*l) : "null";
}

std::string process_json(const BenchResult& r, const ServerFigures& s) {
  return fmt::format(
      "{{\"pid\": {}, \"cpu_s\": {}, \"cpu_s_per_1m\": {}, \"peak_rss_kib\": {}, \"rss_before_kib\": {}, "
      "\"rss_after_kib\": {}, \"rss_bytes_per_connection\": {}}}",
      s.pid, number(s.cpu_seconds), optional_number(r.cpu_s_per_million(s)), s.peak_rss_kib, s.rss_before_kib,
      s.rss_after_kib, optional_number(r.rss_bytes_per_connection(s)));
}

std::string server_json(const BenchResult& r) {
  return r.server ? process_json(r, *r.server) : "null";
}

std::string more_servers_json(const BenchResult& r) {
  std::string out;
  for (const auto& process : r.more_servers)
    out += (out.empty() ? "" : ", ") + process_json(r, process);
  return "[" + out + "]";
}

}  // namespace

std::string format_json(const BenchResult& r) {
  std::string warnings;
  for (const auto& warning : r.warnings)
    warnings += (warnings.empty() ? "" : ", ") + quoted(warning);
  std::string out = "{\n";
  out += fmt::format("  \"scenario\": {}, \"target\": {}, \"proto\": {}, \"tls\": {}, \"ws\": {},\n",
                     quoted(r.scenario), quoted(r.target), quoted(r.proto), r.tls, r.ws);
  out += fmt::format(
      "  \"clients\": {}, \"stuck\": {}, \"senders\": {}, \"rate\": {}, \"window\": {}, \"payload\": {}, "
      "\"duration_s\": {}, \"warmup_s\": {},\n",
      r.clients, r.stuck, r.senders, number(r.rate), r.window, r.payload, number(r.duration_s),
      number(r.warmup_s));
  const double loss_ratio =
      r.expected == 0 ? 0.0 : static_cast<double>(r.lost()) / static_cast<double>(r.expected);
  out += fmt::format(
      "  \"sent\": {}, \"expected\": {}, \"delivered\": {}, \"lost\": {}, \"loss_ratio\": {}, "
      "\"duplicates\": {}, \"order_violations\": {}, \"unexpected\": {},\n",
      r.sent, r.expected, r.delivered, r.lost(), number(loss_ratio), r.duplicates, r.order_violations,
      r.unexpected);
  out += fmt::format("  \"measured_s\": {}, \"deliveries_per_s\": {},\n", number(r.measured_s),
                     number(r.deliveries_per_s()));
  out += fmt::format("  \"latency_ns\": {},\n", latency_json(r.latency));
  out += fmt::format("  \"servers\": {}, \"same_server_latency_ns\": {}, \"cross_server_latency_ns\": {},\n",
                     r.servers, optional_latency_json(r.same_server), optional_latency_json(r.cross_server));
  out += fmt::format("  \"opened\": {}, \"held\": {}, \"all_in_s\": {}, \"first_failure\": {},\n", r.opened,
                     r.held, r.all_in_s ? number(*r.all_in_s) : "null",
                     r.first_failure.empty() ? "null" : quoted(r.first_failure));
  out += fmt::format("  \"server\": {},\n  \"more_servers\": {},\n", server_json(r), more_servers_json(r));
  out += fmt::format("  \"generator\": {{\"cpu_s\": {}, \"wall_s\": {}, \"core_share\": {}}},\n",
                     number(r.generator_cpu_s), number(r.generator_wall_s), number(r.generator_core_share()));
  out += fmt::format("  \"warnings\": [{}],\n", warnings);
  out += fmt::format("  \"error\": {}\n}}\n", r.error.empty() ? "null" : quoted(r.error));
  return out;
}

}  // namespace dschat::bench
