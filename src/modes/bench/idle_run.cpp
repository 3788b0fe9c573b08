#include "modes/bench/idle_run.hpp"

#include <fmt/format.h>

#include <asio/co_spawn.hpp>
#include <asio/write.hpp>
#include <exception>

#include "core/error.hpp"
#include "modes/bench/chunk_reader.hpp"
#include "modes/bench/connect_many.hpp"
#include "modes/bench/run_setup.hpp"
#include "modes/bench/tls_io.hpp"
#include "modes/bench/ws_io.hpp"
#include "net/endpoint.hpp"
#include "net/process.hpp"

namespace dschat::bench {

namespace {

using namespace std::chrono_literals;
using Clock = Wakeup::Clock;

/// Descriptors kept free for everything else (stdio, epoll, /proc files).
constexpr std::size_t spare_fds = 32;

}  // namespace

IdleRun::IdleRun(const BenchOptions& options, const asio::ip::tcp::endpoint& endpoint, const TlsContext* tls)
    : options_(options),
      endpoint_(endpoint),
      tls_(tls),
      read_buffer_(16 * 1024),
      wire_{options.proto, Fanout::others},
      joined_(options.clients),
      progress_wake_(io_.get_executor()),
      result_(new_result(options)) {
  const auto limit = raise_fd_limit();
  if (limit && options.clients + spare_fds > *limit) {
    throw Error(
        fmt::format("{} connections need more open files than the limit of {} (raise it with ulimit -n)",
                    options.clients, *limit));
  }
  sockets_.reserve(options.clients);
  for (std::size_t i = 0; i < options.clients; ++i)
    sockets_.emplace_back(io_);
  if (tls_) {
    plain_buffer_.resize(16 * 1024);
    tls_sessions_.resize(options.clients);
  }
  if (options.ws) {
    ws_links_.resize(options.clients);
    ws_seed_ = random_seed();
  }
}

BenchResult IdleRun::run() {
  TaskGroup tasks(io_.get_executor());
  run_to_completion(io_, main(tasks));
  if (!connect_failure_.empty()) throw Error(connect_failure_);
  return result_;
}

asio::awaitable<void> IdleRun::main(TaskGroup& tasks) {
  const auto started = started_ = Clock::now();
  const double cpu_before = own_cpu_seconds();
  const auto server_before = sample_servers(options_);
  if (progress_wanted()) tasks.spawn(show_progress());
  std::exception_ptr error;
  try {
    ConnectPlan plan{{endpoint_}, options_.connect_rate, 64, false};
    if (tls_) plan.handshake = [this](std::size_t i) { return handshake(i); };
    if (options_.ws) plan.handshake = [this](std::size_t i) { return ws_handshake(i); };
    const auto connected = co_await connect_many(sockets_, plan, [&](std::size_t i) {
      ++opened_;
      const std::string greeting = wire_.greeting(i);
      std::error_code ignored;  // a connection that failed shows up as closed when its reader starts
      if (!greeting.empty()) asio::write(sockets_[i], asio::buffer(greeting), ignored);
      tasks.spawn(hold(i));
    });
    result_.opened = connected.opened;
    result_.first_failure = connected.first_failure;
    if (connected.opened == 0) {
      connect_failure_ = fmt::format("cannot connect to {}: {}", result_.target, connected.first_failure);
    } else {
      Wakeup timer(co_await asio::this_coro::executor);
      const auto until = Clock::now() + to_duration(options_.duration);
      while (Clock::now() < until)
        co_await timer.wait_until(until);
      result_.held = opened_ - closed_by_server_;
      add_server_figures(result_, options_, server_before, sample_servers(options_));
    }
  } catch (...) {
    error = std::current_exception();
  }
  result_.generator_cpu_s = own_cpu_seconds() - cpu_before;
  result_.generator_wall_s = to_seconds(Clock::now() - started);
  if (result_.first_failure.empty()) result_.first_failure = first_close_;
  if (connect_failure_.empty() && result_.held < options_.clients) {
    result_.error =
        fmt::format("{} held {} of {} connections", result_.target, result_.held, options_.clients);
  }
  closing_ = true;
  for (auto& socket : sockets_) {
    std::error_code ignored;
    socket.close(ignored);
  }
  progress_wake_.notify();
  co_await tasks.join();
  if (error) std::rethrow_exception(error);
}

asio::awaitable<std::string> IdleRun::handshake(std::size_t index) {
  auto& engine = tls_sessions_[index].emplace(TlsEngine::client(*tls_, options_.host));
  co_return co_await tls_handshake(sockets_[index], engine, read_buffer_);
}

asio::awaitable<std::string> IdleRun::ws_handshake(std::size_t index) {
  auto& link = ws_links_[index].emplace(format_endpoint(endpoint_), ws_seed_ + index);
  co_return co_await ws_upgrade(sockets_[index], link, read_buffer_,
                                [this, index](std::string_view line) { on_chunk(index, line); });
}

asio::awaitable<void> IdleRun::hold(std::size_t index) {
  // Whatever the server sends (welcome lines, join notices) is read and dropped, so that its queues
  // for these clients stay empty; only the end of the connection matters.
  const auto scan = [this, index](std::string_view chunk) {
    if (ws_links_.empty()) {
      on_chunk(index, chunk);
    } else {
      on_ws_chunk(index, chunk);
    }
  };
  std::error_code error;
  TlsEngine* tls = tls_sessions_.empty() ? nullptr : &*tls_sessions_[index];
  // (No co_await inside a conditional expression: GCC 12 miscompiles that.)
  if (tls) {
    error = co_await read_tls_chunks(sockets_[index], *tls, read_buffer_, plain_buffer_, scan,
                                     [this, index] { return flush_tls(index); });
  } else {
    error = co_await read_chunks(sockets_[index], read_buffer_, scan);
  }
  if (closing_) co_return;
  ++closed_by_server_;
  if (first_close_.empty()) {
    const WsLink* ws = ws_links_.empty() ? nullptr : &*ws_links_[index];
    first_close_ = ws && ws->state() == WsLinkState::ended ? ws->error()
                   : error == asio::error::eof             ? "closed by the server"
                   : error == tls_failed()                 ? fmt::format("TLS error: {}", tls->error())
                                                           : describe(error);
  }
}

asio::awaitable<std::error_code> IdleRun::flush_tls(std::size_t index) {
  // The reader is the only writer once the handshake is done.
  const std::string bytes = tls_sessions_[index]->take_ciphertext();
  std::error_code error;
  co_await asio::async_write(sockets_[index], asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, error));
  co_return error;
}

void IdleRun::on_ws_chunk(std::size_t index, std::string_view chunk) {
  auto& link = *ws_links_[index];
  link.feed(chunk, [&](std::string_view line) { on_chunk(index, line); });
  if (link.wants_write()) {
    // A pong, or the close answering the server's: a few bytes into an idle connection's empty send
    // buffer, written at once; if that fails, the server's next ping timeout says so.
    const std::string replies = link.take_replies();
    std::error_code ignored;
    asio::write(sockets_[index], asio::buffer(replies), ignored);
  }
}

void IdleRun::on_chunk(std::size_t index, std::string_view chunk) {
  auto& scan = joined_[index];
  if (scan.found()) return;
  if (scan.feed(wire_.joined_marker(), chunk) && ++joined_count_ == options_.clients)
    result_.all_in_s = to_seconds(Clock::now() - started_);
}

asio::awaitable<void> IdleRun::show_progress() {
  const auto start = Clock::now();
  for (auto next = start + 1s; !closing_; next += 1s) {
    co_await progress_wake_.wait_until(next);
    if (closing_) break;
    draw_progress(fmt::format("{:6.1f} s  {} of {} connections open", to_seconds(Clock::now() - start),
                              opened_ - closed_by_server_, options_.clients));
  }
  draw_progress("");
}

}  // namespace dschat::bench
