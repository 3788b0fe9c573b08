#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dschat {

/// Creates a named logger writing to stderr with a timestamped pattern; verbose also enables debug lines.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, bool verbose);

/// Creates a named logger writing to the given sink (tests pass an ostream sink).
std::shared_ptr<spdlog::logger> make_logger(const std::string& name, spdlog::sink_ptr sink, bool verbose);

/// What is known about a connection when it ends.
struct ConnectionStats {
  std::string peer;    ///< "127.0.0.1:40312"
  std::string name;    ///< chat name, empty for echo
  std::string reason;  ///< "eof", "end", "connection reset", "too slow: …"
  std::chrono::steady_clock::duration duration{};
  std::uint64_t lines_in = 0;
  std::uint64_t lines_out = 0;
};

/// The servers' connection logger (docs/protocol.md): one line per connect and per disconnect. Thread-safe.
class ConnectionLog {
 public:
  /// Logs through logger, which the caller created once at start-up.
  explicit ConnectionLog(std::shared_ptr<spdlog::logger> logger) noexcept : logger_(std::move(logger)) {}

  /// "+ 127.0.0.1:40312 connected" (with " as NAME" when name is not empty).
  void connected(std::string_view peer, std::string_view name = {}) const;

  /// "- 127.0.0.1:40312 guest-3 disconnected: eof after 1.52 s, 3 lines in, 5 out".
  void disconnected(const ConnectionStats& stats) const;

  /// A chat line, logged only when verbose: "<alice> hello".
  void chat_line(std::string_view name, std::string_view text) const;

  /// The underlying logger, for other server events.
  spdlog::logger& logger() const noexcept { return *logger_; }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace dschat
