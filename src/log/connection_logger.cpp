#include "log/connection_logger.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <ctime>

#include "core/sanitize.hpp"

namespace dschat {

namespace {
constexpr const char* log_pattern = "%Y-%m-%d %H:%M:%S.%e %n: %v";
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, bool verbose) {
  // stderr keeps stdout free for what scripts read ("listening on", received messages).
  return make_logger(name, std::make_shared<spdlog::sinks::stderr_sink_mt>(), verbose);
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, spdlog::sink_ptr sink, bool verbose) {
  // Each line's timestamp comes from localtime_r, which loads the time zone file on its first call, from
  // whichever thread logs first. Load it here, before any client thread exists, so that no connection
  // opens a file (or races another thread to it) to log its first line.
  tzset();
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_pattern(log_pattern);
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::debug);
  return logger;
}

void ConnectionLog::connected(std::string_view peer, std::string_view name) const {
  if (name.empty()) {
    logger_->info("+ {} connected", peer);
  } else {
    logger_->info("+ {} connected as {}", peer, name);
  }
}

void ConnectionLog::disconnected(const ConnectionStats& stats) const {
  const double seconds = std::chrono::duration<double>(stats.duration).count();
  logger_->info("- {}{}{} disconnected: {} after {:.2f} s, {} lines in, {} out", stats.peer,
                stats.name.empty() ? "" : " ", stats.name, stats.reason, seconds, stats.lines_in,
                stats.lines_out);
}

void ConnectionLog::chat_line(std::string_view name, std::string_view text) const {
  if (logger_->should_log(spdlog::level::debug)) logger_->debug("<{}> {}", name, sanitize(text));
}

}  // namespace dschat
