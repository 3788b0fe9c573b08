#include "modes/chat_client/chat_client.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>

#include "core/protocol.hpp"
#include "core/sanitize.hpp"
#include "modes/chat_client/incoming_style.hpp"
#include "modes/chat_client/line_editor.hpp"
#include "modes/chat_client/server_link.hpp"
#include "modes/chat_client/stdin_reader.hpp"
#include "net/connector.hpp"
#include "net/endpoint.hpp"
#include "net/process.hpp"

namespace dschat {

namespace {

// After /quit (typed, or sent at end of input) the server normally closes at once; this is the wait
// for one that does not (README, chat).
constexpr std::chrono::seconds quit_wait{1};

bool closed_by_peer(const std::error_code& error) noexcept {
  return error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::broken_pipe || error == asio::error::connection_aborted;
}

/// One chat session: the server link, the input (line editor or reader thread), signals and the exit.
class ChatClient {
 public:
  ChatClient(asio::io_context& io, asio::ip::tcp::socket socket, std::optional<TlsEngine> tls,
             const ChatOptions& options)
      : io_(io),
        server_(format_host_port(options.host, options.port)),
        style_{colour_wanted(interactive()), options.timestamps},
        max_line_(options.max_line),
        password_(options.password),
        link_(std::move(socket), options.max_line, std::move(tls)),
        signals_(io, SIGINT, SIGTERM, SIGHUP),
        quit_timer_(io) {}

  /// Runs until the session ends; returns its exit code.
  ExitCode run() {
    signals_.async_wait([this](const std::error_code& error, int) {
      if (!error) finish(ExitCode::interrupted);
    });
    // The editor (or reader) first: the welcome line may be the first thing to print.
    if (interactive()) {
      editor_.emplace(
          io_, "> ", [this](std::string line) { on_input(line); }, [this] { end_of_input(); });
    } else {
      reader_.emplace(io_, max_line_, [this](InputBatch batch) { on_batch(std::move(batch)); });
    }
    link_.start([this](FrameKind kind, std::string_view line) { on_server_line(kind, line); },
                [this](const std::error_code& error) { on_server_closed(error); }, [this] { on_drained(); });
    // The first line: a room with a password admits the client before anything typed reaches it.
    if (!password_.empty()) link_.send("/pass " + password_);
    io_.run();
    return exit_code_;
  }

 private:
  static bool interactive() noexcept { return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1; }

  void show(std::string_view line) {
    if (editor_) {
      editor_->print_above(stdout, line);
    } else {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    }
  }

  void status(std::string_view text) {
    const std::string line = fmt::format("dschat: {}", text);
    if (editor_) {
      editor_->print_above(stderr, line);
    } else {
      std::fputs((line + '\n').c_str(), stderr);
    }
  }

  void on_server_line(FrameKind kind, std::string_view line) {
    if (kind == FrameKind::too_long) {
      status(fmt::format("skipped a line from the server longer than {} bytes", max_line_));
      return;
    }
    show(style_line(sanitize(line), style_));
  }

  void on_server_closed(const std::error_code& error) {
    if (!link_.tls_error().empty()) {
      finish(ExitCode::failure);
      status(fmt::format("connection to {} failed: {}", server_, link_.tls_error()));
    } else if (quitting_) {  // the answer to our /quit
      finish(ExitCode::ok);
    } else if (closed_by_peer(error)) {
      finish(ExitCode::ok);
      status(fmt::format("connection to {} closed by the server", server_));
    } else {
      finish(ExitCode::failure);
      status(fmt::format("connection to {} failed: {}", server_, describe(error)));
    }
  }

  void on_input(std::string_view line) {
    if (quitting_ || finished_) return;
    link_.send(line);
    if (is_quit_command(line)) begin_quit();
  }

  void on_batch(InputBatch batch) {
    if (batch.skipped > 0) {
      status(fmt::format("skipped {} input line(s) longer than {} bytes", batch.skipped, max_line_));
    }
    for (const auto& line : batch.lines)
      on_input(line);
    if (batch.end) {
      end_of_input();
    } else {
      waiting_for_drain_ = true;  // the reader resumes once this batch is on its way
    }
  }

  void on_drained() {
    if (waiting_for_drain_ && reader_) {
      waiting_for_drain_ = false;
      reader_->resume();
    }
  }

  void end_of_input() {
    if (quitting_ || finished_) return;
    link_.send("/quit");
    begin_quit();
  }

  /// Stops reading input and gives the server quit_wait to close the connection.
  void begin_quit() {
    quitting_ = true;
    if (editor_) editor_->close();
    if (reader_) reader_->stop();
    quit_timer_.expires_after(quit_wait);
    quit_timer_.async_wait([this](const std::error_code& error) {
      if (!error) finish(ExitCode::ok);
    });
  }

  /// Ends every activity so io.run() returns; the first caller decides the exit code.
  void finish(ExitCode code) {
    if (finished_) return;
    finished_ = true;
    exit_code_ = code;
    if (editor_) editor_->close();  // the terminal is restored before anything else is printed
    if (reader_) reader_->stop();
    link_.close();
    quit_timer_.cancel();
    std::error_code ignored;
    signals_.cancel(ignored);
  }

  asio::io_context& io_;
  std::string server_;
  IncomingStyle style_;
  std::size_t max_line_;
  std::string password_;
  ServerLink link_;
  asio::signal_set signals_;
  asio::steady_timer quit_timer_;
  std::optional<LineEditor> editor_;
  std::optional<StdinReader> reader_;  // after everything its posted work touches: destroyed (joined) first
  ExitCode exit_code_ = ExitCode::ok;
  bool quitting_ = false;
  bool finished_ = false;
  bool waiting_for_drain_ = false;
};

}  // namespace

ExitCode run_chat_client(const ChatOptions& options) {
  ignore_sigpipe();
  asio::io_context io;
  const std::optional<TlsContext> context = make_client_tls(options.tls);
  auto socket = connect_to(io, options.host, options.port);
  std::optional<TlsEngine> tls;
  if (context) {
    tls.emplace(tls_handshake(socket, *context, options.host, format_host_port(options.host, options.port),
                              std::chrono::seconds(10)));
  }
  ChatClient client(io, std::move(socket), std::move(tls), options);
  return client.run();
}

}  // namespace dschat
