#include "modes/bench/report.hpp"

#include <doctest/doctest.h>

#include <string>

using dschat::bench::BenchResult;
using dschat::bench::format_json;
using dschat::bench::format_ns;
using dschat::bench::format_progress;
using dschat::bench::format_summary;
using dschat::bench::Histogram;
using dschat::bench::ServerFigures;
using dschat::bench::summarize;

namespace {

BenchResult broadcast_result() {
  BenchResult r;
  r.scenario = "broadcast";
  r.target = "127.0.0.1:5555";
  r.clients = 10;
  r.senders = 10;
  r.window = 32;
  r.payload = 64;
  r.duration_s = 2;
  r.sent = 1000;
  r.expected = 9000;
  r.delivered = 8991;
  r.measured_s = 2;
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v)
    h.record(v * 1000);
  r.latency = summarize(h);
  r.server = ServerFigures{4242, 0.9, 8200, 7000, 7100};
  r.generator_cpu_s = 1.9;
  r.generator_wall_s = 2;
  r.warnings.push_back("the generator used 95 % of one core: \"quoted\"");
  return r;
}

}  // namespace

TEST_CASE("BenchResult derived figures") {
  const BenchResult r = broadcast_result();
  CHECK(r.lost() == 9);
  CHECK(r.deliveries_per_s() == doctest::Approx(4495.5));
  CHECK(*r.cpu_s_per_million() == doctest::Approx(0.9e6 / 8991));
  CHECK(r.generator_core_share() == doctest::Approx(0.95));
  BenchResult over = r;
  over.delivered = 9100;  // duplicates of old messages can push it past expected
  CHECK(over.lost() == 0);
}

TEST_CASE("summarize takes percentiles in order") {
  const auto l = broadcast_result().latency;
  CHECK(l.count == 1000);
  CHECK(l.min <= l.p50);
  CHECK(l.p50 <= l.p90);
  CHECK(l.p90 <= l.p99);
  CHECK(l.p99 <= l.p999);
  CHECK(l.p999 <= l.max);
  CHECK(l.max == 1'000'000);
}

TEST_CASE("format_summary names the figures") {
  const std::string text = format_summary(broadcast_result());
  for (const char* part : {"broadcast 127.0.0.1:5555", "10 clients", "flat out (window 32)", "deliveries",
                           "lost 9", "p99", "CPU-s per 1M deliveries", "RSS 6.8 MiB -> 6.9 MiB, peak 8 MiB",
                           "generator", "warning: the generator used 95 %"}) {
    CAPTURE(part);
    CHECK(text.find(part) != std::string::npos);
  }
}

TEST_CASE("format_json holds every field, escaped") {
  const std::string json = format_json(broadcast_result());
  for (const char* part : {"\"scenario\": \"broadcast\"", "\"delivered\": 8991", "\"expected\": 9000",
                           "\"lost\": 9", "\"latency_ns\": {\"count\": 1000", "\"p99\": ", "\"pid\": 4242",
                           "\"cpu_s_per_1m\": ", "\"core_share\": ", "\\\"quoted\\\"", "\"error\": null"}) {
    CAPTURE(part);
    CHECK(json.find(part) != std::string::npos);
  }
  BenchResult failed = broadcast_result();
  failed.server.reset();
  failed.error = "connection lost\n";
  const std::string failed_json = format_json(failed);
  CHECK(failed_json.find("\"server\": null") != std::string::npos);
  CHECK(failed_json.find("\"error\": \"connection lost\\u000a\"") != std::string::npos);
}

TEST_CASE("every --server-pid process in the summary and the JSON, the first as \"server\"") {
  BenchResult r = broadcast_result();
  CHECK(format_json(r).find("\"more_servers\": []") != std::string::npos);
  r.more_servers.push_back(ServerFigures{4343, 1.8, 9000, 8000, 8100});
  r.more_servers.push_back(ServerFigures{4444, 0.45, 3000, 2000, 2100});
  const std::string text = format_summary(r);
  // 8991 deliveries: 0.9 CPU-s = 100.100 CPU-s per 1M, 1.8 = 200.200, 0.45 = 50.050.
  const auto first = text.find("server       pid 4242: 0.90 CPU-s = 100.100 CPU-s per 1M deliveries");
  const auto second = text.find("server       pid 4343: 1.80 CPU-s = 200.200 CPU-s per 1M deliveries");
  const auto third = text.find("server       pid 4444: 0.45 CPU-s = 50.050 CPU-s per 1M deliveries");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(third != std::string::npos);
  CHECK((first < second && second < third));
  const std::string json = format_json(r);
  CHECK(json.find("\"server\": {\"pid\": 4242, \"cpu_s\": 0.9,") != std::string::npos);
  CHECK(json.find("\"more_servers\": [{\"pid\": 4343, \"cpu_s\": 1.8, \"cpu_s_per_1m\": 200.2") !=
        std::string::npos);
  CHECK(json.find("}, {\"pid\": 4444, \"cpu_s\": 0.45,") != std::string::npos);
}

TEST_CASE("several servers: same- and cross-server latency in the summary and the JSON") {
  BenchResult r = broadcast_result();
  CHECK(format_summary(r).find("same-server") == std::string::npos);
  CHECK(format_json(r).find(
            "\"servers\": 1, \"same_server_latency_ns\": null, \"cross_server_latency_ns\": null") !=
        std::string::npos);
  r.target = "127.0.0.1:5555,127.0.0.1:5556";
  r.servers = 2;
  Histogram same;
  same.record(2'000'000);
  Histogram cross;
  cross.record(3'000'000);
  r.same_server = summarize(same);
  r.cross_server = summarize(cross);
  const std::string text = format_summary(r);
  CHECK(text.find("broadcast 127.0.0.1:5555,127.0.0.1:5556") != std::string::npos);
  CHECK(text.find("same-server  p50 2.00 ms") != std::string::npos);
  CHECK(text.find("cross-server p50 3.00 ms") != std::string::npos);
  const std::string json = format_json(r);
  CHECK(json.find("\"servers\": 2, \"same_server_latency_ns\": {\"count\": 1, \"min\": 2000000") !=
        std::string::npos);
  CHECK(json.find("\"cross_server_latency_ns\": {\"count\": 1, \"min\": 3000000") != std::string::npos);
}

TEST_CASE("format_ns and format_progress") {
  CHECK(format_ns(850) == "850 ns");
  CHECK(format_ns(12'345) == "12.3 µs");
  CHECK(format_ns(1'234'567) == "1.23 ms");
  CHECK(format_ns(2'500'000'000) == "2.50 s");
  CHECK(format_progress(3, "deliveries", 12345, 1'500'000).find("p99 1.50 ms") != std::string::npos);
  CHECK(format_progress(3, "deliveries", 0, std::nullopt).find("p99 -") != std::string::npos);
}
