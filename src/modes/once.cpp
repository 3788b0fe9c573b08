// The iterative server: one client, one message, done. It runs on a small io_context only so that a
// signal can end it like the other servers (TerminationSignals): the client is told, the server exits 0.

#include "modes/once.hpp"

#include <fmt/format.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

#include "core/input_framer.hpp"
#include "core/protocol.hpp"
#include "core/sanitize.hpp"
#include "modes/async/asio_compat.hpp"
#include "net/endpoint.hpp"
#include "net/graceful_close.hpp"
#include "net/line_reader.hpp"
#include "net/listener.hpp"
#include "net/termination_signals.hpp"

namespace dschat {
namespace {

constexpr auto use_tuple = async::as_tuple(asio::use_awaitable);

// After a signal, how long to wait for the client's EOF after our last line.
constexpr std::chrono::milliseconds stopping_linger{200};

class OnceServer {
 public:
  OnceServer(asio::io_context& io, asio::ip::tcp::acceptor& acceptor, TerminationSignals& signals,
             const ServeOptions& options, const ConnectionLog& log)
      : acceptor_(acceptor), signals_(signals), socket_(io), timer_(io), options_(options), log_(log) {}

  /// Accepts one client and answers its first message; ends the signal watch when done.
  asio::awaitable<void> serve() {
    const auto [accept_error] = co_await acceptor_.async_accept(socket_, use_tuple);
    if (stopping_) co_return;
    if (accept_error) throw std::system_error(accept_error, "accept");
    std::error_code ignored;
    acceptor_.close(ignored);  // one client only: later ones are refused instead of waiting in the backlog
    connected_ = true;
    started_ = std::chrono::steady_clock::now();
    stats_.peer = format_endpoint(socket_.remote_endpoint(ignored));
    log_.connected(stats_.peer);

    const std::optional<ReadLine> line = co_await read_message();
    if (stopping_) co_return;
    signals_.cancel();
    if (!line) co_return;
    ++stats_.lines_in;
    std::string reply;
    if (line->kind == FrameKind::too_long) {
      stats_.reason = "line too long";
      reply = too_long_reply(options_.max_line);
    } else {
      stats_.reason = "replied";
      reply = line->text;
      std::fputs(fmt::format("received from {}: {}\n", stats_.peer, sanitize(line->text)).c_str(), stdout);
      std::fflush(stdout);
    }
    reply.append(line_ending(crlf_));
    std::error_code error;
    asio::write(socket_, asio::buffer(reply), error);
    if (error) {
      stats_.reason = describe(error);
    } else {
      ++stats_.lines_out;
    }
  }

  /// At SIGINT or SIGTERM: stops accepting and reading, tells a connected client.
  asio::awaitable<void> watch_signals() {
    const auto [error, number] = co_await signals_.async_wait(use_tuple);
    if (error) co_return;  // cancelled: the client was served
    stopping_ = true;
    log_.logger().info("{}: shutting down", number == SIGINT ? "SIGINT" : "SIGTERM");
    std::error_code ignored;
    acceptor_.close(ignored);
    timer_.cancel();
    if (!connected_) co_return;
    stats_.reason = "server shutting down";
    const std::string notice = std::string(protocol::shutting_down).append(line_ending(crlf_));
    asio::write(socket_, asio::buffer(notice), ignored);
    socket_.cancel(ignored);  // the reader's wait ends
  }

  /// After both: closes the connection, if there was one, and logs it.
  void finish() {
    if (!connected_) return;
    close_gracefully(socket_, stopping_ ? stopping_linger : std::chrono::milliseconds(1000));
    stats_.duration = std::chrono::steady_clock::now() - started_;
    log_.disconnected(stats_);
  }

 private:
  /// The first message: a line, or the bytes before a pause (--message-pause); nullopt when the stream
  /// ended first (stats_.reason says how).
  asio::awaitable<std::optional<ReadLine>> read_message() {
    using namespace asio::experimental::awaitable_operators;
    InputFramer framer(options_.max_line);
    std::optional<ReadLine> line;
    const auto take_first = [&line](FrameKind kind, std::string_view text) {
      line = ReadLine{kind, std::string(text)};
      return false;
    };
    std::array<char, 16 * 1024> buffer;
    while (!line) {
      // Wait for readiness, then read: a read racing the pause timer could lose the bytes it read.
      if (options_.message_pause.count() > 0 && framer.buffered() > 0) {
        timer_.expires_after(options_.message_pause);
        const auto woke = co_await (socket_.async_wait(asio::socket_base::wait_read, use_tuple) ||
                                    timer_.async_wait(use_tuple));
        if (stopping_) break;
        if (woke.index() == 1) {
          framer.end_message(take_first);
          break;
        }
      } else {
        co_await socket_.async_wait(asio::socket_base::wait_read, use_tuple);
        if (stopping_) break;
      }
      std::error_code error;
      const std::size_t n = socket_.read_some(asio::buffer(buffer), error);
      if (error) {
        framer.finish(take_first);
        if (!line) stats_.reason = error == asio::error::eof ? "eof before any message" : describe(error);
        break;
      }
      framer.feed(std::string_view(buffer.data(), n), take_first);
      if (!framer.replies().empty()) {
        asio::write(socket_, asio::buffer(framer.replies()), error);
        framer.replies().clear();
      }
      crlf_ = framer.crlf();
    }
    co_return line;
  }

  asio::ip::tcp::acceptor& acceptor_;
  TerminationSignals& signals_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  const ServeOptions& options_;
  const ConnectionLog& log_;
  ConnectionStats stats_;
  std::chrono::steady_clock::time_point started_;
  bool connected_ = false;
  bool stopping_ = false;  // a signal came
  bool crlf_ = false;      // the client's line ended in CRLF: so does the reply
};

}  // namespace

ExitCode run_once(const ServeOptions& options, const ConnectionLog& log) {
  asio::io_context io;
  TerminationSignals signals(io.get_executor());
  auto acceptor = listen_on(io, options.host, port_of(options));
  announce_listening(acceptor);
  OnceServer server(io, acceptor, signals, options, log);
  const auto rethrow = [](const std::exception_ptr& error) {
    if (error) std::rethrow_exception(error);
  };
  asio::co_spawn(io, server.serve(), rethrow);
  asio::co_spawn(io, server.watch_signals(), rethrow);
  io.run();
  server.finish();
  return ExitCode::ok;
}

}  // namespace dschat
