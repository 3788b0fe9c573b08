#include "modes/client.hpp"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <span>

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

/// How one exchange ended.
enum class Reply { ok, error, closed };

/// The line client's connection: one line out, one reply in, within the reply timeout.
class Exchange {
 public:
  Exchange(const ClientOptions& options, asio::ip::tcp::socket& socket, std::optional<TlsEngine>& tls)
      : options_(options),
        socket_(socket),
        tls_(tls),
        reader_(socket, options.max_line),
        server_(format_host_port(options.host, options.port)) {
    if (tls_) {
      reader_.set_source(
          [this](std::span<char> buffer, std::error_code& error) {
            return tls_read_some(socket_, *tls_, buffer, error);
          },
          [this] { return tls_->plaintext_pending(); });
    }
  }

  /// Sends line and prints its reply (sanitized); throws Error when no reply comes within the timeout.
  Reply operator()(std::string line) {
    line += '\n';
    std::error_code error;
    if (tls_) {
      tls_write(socket_, *tls_, line, error);
    } else {
      asio::write(socket_, asio::buffer(line), error);
    }
    std::optional<ReadLine> reply;
    if (!error) {
      reply = options_.timeout > 0
                  ? reader_.next(error,
                                 std::chrono::milliseconds(static_cast<long long>(options_.timeout * 1000)))
                  : reader_.next(error);
    }
    if (!reply) {
      if (error == asio::error::timed_out) {
        throw Error(
            fmt::format("no reply from {} within {:g} s (a chat server does not answer its sender: try "
                        "dschat chat)",
                        server_, options_.timeout));
      }
      if (error && error != asio::error::eof && error != asio::error::connection_reset &&
          error != asio::error::broken_pipe) {
        throw Error(fmt::format("connection to {} failed: {}", server_, describe(error)));
      }
      std::fputs(fmt::format("dschat: connection to {} closed by the server\n", server_).c_str(), stderr);
      return Reply::closed;
    }
    const std::string text =
        reply->kind == FrameKind::too_long ? std::string("[reply too long, skipped]") : sanitize(reply->text);
    std::fputs(text.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    // "! server full", "! line too long …": the server refused something, which a script must see.
    return text.starts_with("! ") ? Reply::error : Reply::ok;
  }

  const std::string& server() const noexcept { return server_; }

 private:
  const ClientOptions& options_;
  asio::ip::tcp::socket& socket_;
  std::optional<TlsEngine>& tls_;
  LineReader reader_;
  std::string server_;
};

/// On a terminal, lines typed ahead while the client still ran must not reach the shell afterwards as
/// commands: they are dropped when the client ends.
class TypeAhead {
 public:
  TypeAhead() : terminal_(::isatty(STDIN_FILENO) == 1) {}
  ~TypeAhead() {
    if (terminal_) ::tcflush(STDIN_FILENO, TCIFLUSH);
  }
  TypeAhead(const TypeAhead&) = delete;
  TypeAhead& operator=(const TypeAhead&) = delete;

  /// Prompts for the next line when a person types at a terminal.
  void prompt() const {
    if (!terminal_ || ::isatty(STDOUT_FILENO) != 1) return;
    std::fputs("> ", stdout);
    std::fflush(stdout);
  }

 private:
  bool terminal_;
};

}  // namespace

ExitCode run_client(const ClientOptions& options) {
  ignore_sigpipe();
  asio::io_context io;
  const std::optional<TlsContext> context = make_client_tls(options.tls);
  auto socket = connect_to(io, options.host, options.port);
  std::optional<TlsEngine> tls;
  if (context) {
    const auto timeout = std::chrono::milliseconds(
        options.timeout > 0 ? static_cast<long long>(options.timeout * 1000) : 10000);
    tls.emplace(
        tls_handshake(socket, *context, options.host, format_host_port(options.host, options.port), timeout));
  }
  Exchange exchange(options, socket, tls);
  // With TLS, one close_notify before the socket is closed.
  const auto close_tls = [&] {
    if (!tls) return;
    tls->shutdown();
    std::error_code ignored;
    if (tls->wants_write()) asio::write(socket, asio::buffer(tls->take_ciphertext()), ignored);
  };
  bool refused = false;

  if (!options.words.empty()) {
    std::string line = options.words.front();
    for (std::size_t i = 1; i < options.words.size(); ++i)
      line += ' ' + options.words[i];
    const Reply reply = exchange(line);
    if (reply != Reply::closed) {
      close_tls();
      close_gracefully(socket, std::chrono::milliseconds(200));
    }
    return reply == Reply::error ? ExitCode::failure : ExitCode::ok;
  }

  const TypeAhead typed;
  std::string line;
  for (typed.prompt(); std::getline(std::cin, line); typed.prompt()) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool last = is_end_command(line);
    const Reply reply = exchange(line);
    if (reply == Reply::closed) return refused ? ExitCode::failure : ExitCode::ok;
    refused = refused || reply == Reply::error;
    if (last) break;
  }
  close_tls();
  close_gracefully(socket, std::chrono::milliseconds(200));
  return refused ? ExitCode::failure : ExitCode::ok;
}

}  // namespace dschat
