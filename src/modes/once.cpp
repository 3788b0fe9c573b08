#include "modes/once.hpp"

#include <fmt/format.h>

#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "core/protocol.hpp"
#include "core/sanitize.hpp"
#include "net/endpoint.hpp"
#include "net/graceful_close.hpp"
#include "net/line_reader.hpp"
#include "net/listener.hpp"

namespace dschat {

ExitCode run_once(const ServeOptions& options, const ConnectionLog& log) {
  asio::io_context io;
  auto acceptor = listen_on(io, options.host, port_of(options));
  announce_listening(acceptor);

  asio::ip::tcp::socket socket(io);
  acceptor.accept(socket);
  acceptor.close();  // one client only: later ones are refused instead of waiting in the backlog
  const auto started = std::chrono::steady_clock::now();
  ConnectionStats stats;
  std::error_code error;
  stats.peer = format_endpoint(socket.remote_endpoint(error));
  log.connected(stats.peer);

  LineReader reader(socket, options.max_line);
  const auto line = reader.next(error);
  std::optional<std::string> reply;
  if (!line) {
    stats.reason = error ? describe(error) : "eof before any message";
  } else if (line->kind == FrameKind::too_long) {
    ++stats.lines_in;
    stats.reason = "line too long";
    reply = too_long_reply(options.max_line);
  } else {
    ++stats.lines_in;
    stats.reason = "replied";
    reply = line->text;
    std::fputs(fmt::format("received from {}: {}\n", stats.peer, sanitize(line->text)).c_str(), stdout);
    std::fflush(stdout);
  }
  if (reply) {
    *reply += '\n';
    asio::write(socket, asio::buffer(*reply), error);
    if (error) {
      stats.reason = describe(error);
    } else {
      ++stats.lines_out;
    }
  }
  close_gracefully(socket, std::chrono::seconds(1));
  stats.duration = std::chrono::steady_clock::now() - started;
  log.disconnected(stats);
  return ExitCode::ok;
}

}  // namespace dschat
