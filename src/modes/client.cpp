#include "modes/client.hpp"

#include <fmt/format.h>

#include <asio/write.hpp>
#include <cstdio>
#include <iostream>

#include "core/error.hpp"
#include "core/protocol.hpp"
#include "core/sanitize.hpp"
#include "net/connector.hpp"
#include "net/endpoint.hpp"
#include "net/graceful_close.hpp"
#include "net/line_reader.hpp"
#include "net/process.hpp"

namespace dschat {

namespace {

/// Sends one line and prints the reply; returns false when the server has gone.
bool exchange(asio::ip::tcp::socket& socket, LineReader& reader, std::string line,
              const std::string& server) {
  line += '\n';
  std::error_code error;
  asio::write(socket, asio::buffer(line), error);
  std::optional<ReadLine> reply;
  if (!error) reply = reader.next(error);
  if (!reply) {
    if (error && error != asio::error::eof && error != asio::error::connection_reset &&
        error != asio::error::broken_pipe) {
      throw Error(fmt::format("connection to {} failed: {}", server, describe(error)));
    }
    std::fputs(fmt::format("dschat: connection to {} closed by the server\n", server).c_str(), stderr);
    return false;
  }
  const std::string text =
      reply->kind == FrameKind::too_long ? std::string("[reply too long, skipped]") : sanitize(reply->text);
  std::fputs(text.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  return true;
}

}  // namespace

ExitCode run_client(const ClientOptions& options) {
  ignore_sigpipe();
  asio::io_context io;
  auto socket = connect_to(io, options.host, options.port);
  const std::string server = format_host_port(options.host, options.port);
  LineReader reader(socket, options.max_line);

  if (!options.words.empty()) {
    std::string line = options.words.front();
    for (std::size_t i = 1; i < options.words.size(); ++i)
      line += ' ' + options.words[i];
    if (exchange(socket, reader, line, server)) close_gracefully(socket, std::chrono::milliseconds(200));
    return ExitCode::ok;
  }

  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool last = is_end_command(line);
    if (!exchange(socket, reader, line, server)) return ExitCode::ok;
    if (last) break;
  }
  close_gracefully(socket, std::chrono::milliseconds(200));
  return ExitCode::ok;
}

}  // namespace dschat
