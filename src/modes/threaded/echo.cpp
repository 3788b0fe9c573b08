// The echo service of the threaded server: one thread per client that reads a line and writes the reply
// itself. A client that stops reading only blocks its own thread, which is the point of this model.

#include "modes/threaded/echo.hpp"

#include <asio/write.hpp>
#include <chrono>
#include <string>

#include "core/protocol.hpp"
#include "net/endpoint.hpp"
#include "net/line_reader.hpp"

namespace dschat::threaded {

void serve_echo_client(Connection& connection, const ServeOptions& options, const ConnectionLog& log) {
  const auto started = std::chrono::steady_clock::now();
  ConnectionStats stats;
  stats.peer = connection.peer();
  log.connected(stats.peer);

  std::error_code error;
  // Telnet answers go out as soon as they are known; a failed write shows again at the next reply.
  LineReader reader(
      connection.socket(), options.max_line,
      [&](std::string_view bytes) { asio::write(connection.socket(), asio::buffer(bytes), error); },
      options.message_pause);
  FloodLimit bucket(flood_budget(options), started);
  const bool verbose = log.logger().should_log(spdlog::level::debug);
  bool told_to_slow_down = false;
  std::string reply;
  for (;;) {
    const auto line = reader.next(error);
    if (!line) {
      if (connection.idle()) {
        stats.reason = protocol::idle_reason;
        const std::string notice = idle_notice(options.idle_timeout).append(line_ending(reader.crlf()));
        asio::write(connection.socket(), asio::buffer(notice), error);
        if (!error) ++stats.lines_out;
        break;
      }
      stats.reason = connection.stop_requested() ? "shutdown" : disconnect_reason(error);
      break;
    }
    connection.heard();
    ++stats.lines_in;
    if (line->kind == FrameKind::too_long) {
      reply = too_long_reply(options.max_line);
    } else {
      if (verbose) log.chat_line(stats.peer, line->text);
      reply = line->text;
    }
    reply += line_ending(reader.crlf());
    const bool paced = take_token(bucket, line->text.size() + 1);
    if (paced && !told_to_slow_down) {
      told_to_slow_down = true;
      const std::string notice = pacing_notice(bucket, options, FloodLimit::Clock::now());
      reply.append(notice).append(line_ending(reader.crlf()));
      log.logger().info("{} paced: {}", stats.peer, pacing_log_text(notice));
    }
    asio::write(connection.socket(), asio::buffer(reply), error);
    if (error) {
      stats.reason = connection.stop_requested() ? "shutdown" : disconnect_reason(error);
      break;
    }
    ++stats.lines_out;
    if (line->kind == FrameKind::line && is_end_command(line->text)) {
      stats.reason = "end";
      break;
    }
    // A client that keeps sending during shutdown would otherwise keep its thread alive.
    if (connection.stop_requested()) {
      stats.reason = "shutdown";
      break;
    }
    if (paced) pause_reading(bucket, connection);
  }
  connection.close(std::chrono::seconds(1));
  stats.duration = std::chrono::steady_clock::now() - started;
  log.disconnected(stats);
}

}  // namespace dschat::threaded
