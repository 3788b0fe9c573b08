#include "log/connection_logger.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

using namespace dschat;

namespace {

struct Captured {
  std::ostringstream stream;
  std::shared_ptr<spdlog::logger> logger;

  explicit Captured(bool verbose)
      : logger(make_logger("server", std::make_shared<spdlog::sinks::ostream_sink_mt>(stream), verbose)) {}
};

}  // namespace

TEST_CASE("make_logger: named, timestamped pattern") {
  Captured out(false);
  out.logger->info("hello");
  const std::string text = out.stream.str();
  // "2026-11-22 15:57:01.123 server: hello"
  REQUIRE(text.size() > 24);
  CHECK(text[4] == '-');
  CHECK(text[10] == ' ');
  CHECK(text[13] == ':');
  CHECK(text[19] == '.');
  CHECK(text.substr(23) == " server: hello\n");
}

TEST_CASE("ConnectionLog::connected with and without a name") {
  Captured out(false);
  const ConnectionLog log(out.logger);
  log.connected("127.0.0.1:40312");
  log.connected("[::1]:5000", "guest-3");
  const std::string text = out.stream.str();
  CHECK(text.find("server: + 127.0.0.1:40312 connected\n") != std::string::npos);
  CHECK(text.find("server: + [::1]:5000 connected as guest-3\n") != std::string::npos);
}

TEST_CASE("ConnectionLog::disconnected reports reason, duration and line counts") {
  Captured out(false);
  const ConnectionLog log(out.logger);
  ConnectionStats stats;
  stats.peer = "127.0.0.1:40312";
  stats.name = "alice";
  stats.reason = "connection reset";
  stats.duration = std::chrono::milliseconds(1520);
  stats.lines_in = 3;
  stats.lines_out = 5;
  log.disconnected(stats);
  CHECK(out.stream.str().find("server: - 127.0.0.1:40312 alice disconnected: connection reset after 1.52 s, "
                              "3 lines in, 5 out\n") != std::string::npos);
}

TEST_CASE("ConnectionLog::chat_line only when verbose, sanitized") {
  Captured quiet(false);
  ConnectionLog(quiet.logger).chat_line("alice", "hi");
  CHECK(quiet.stream.str().empty());

  Captured verbose(true);
  ConnectionLog(verbose.logger).chat_line("alice", "hi\x1b[2J");
  CHECK(verbose.stream.str().find("server: <alice> hi^[[2J\n") != std::string::npos);
}
