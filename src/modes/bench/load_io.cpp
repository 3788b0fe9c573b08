// The coroutines of a LoadRun besides main: readers that find tokens in whatever the server sends,
// senders that write paced or windowed batches, and the progress line.

#include <fmt/format.h>

#include <algorithm>
#include <asio/write.hpp>
#include <utility>

#include "modes/bench/chunk_reader.hpp"
#include "modes/bench/load_run.hpp"
#include "modes/bench/run_setup.hpp"
#include "modes/bench/tls_io.hpp"
#include "modes/bench/ws_io.hpp"
#include "net/endpoint.hpp"

namespace dschat::bench {

namespace {

using namespace std::chrono_literals;

/// Messages per write: large enough to amortize the system call, small enough to keep pacing smooth.
constexpr std::uint64_t max_batch = 64;

}  // namespace

void LoadRun::greet(asio::ip::tcp::socket& socket, std::size_t index) {
  const std::string greeting = wire_.greeting(index);
  if (greeting.empty()) return;
  // A few dozen bytes into a new connection's empty send buffer: the write completes at once, and it is
  // done before anything else is written to the socket.
  std::error_code error;
  asio::write(socket, asio::buffer(greeting), error);
  if (error) connection_lost(error);
}

asio::awaitable<std::string> LoadRun::handshake(std::size_t index) {
  auto& engine = clients_[index]->tls.emplace(TlsEngine::client(*tls_, options_.host));
  co_return co_await tls_handshake(sockets_[index], engine, handshake_buffer_);
}

asio::awaitable<std::string> LoadRun::stuck_handshake(std::size_t index) {
  auto& engine = stuck_tls_[index].emplace(TlsEngine::client(*tls_, options_.host));
  co_return co_await tls_handshake(stuck_sockets_[index], engine, handshake_buffer_);
}

asio::awaitable<std::string> LoadRun::ws_handshake(std::size_t index) {
  auto& link =
      clients_[index]->ws.emplace(format_endpoint(endpoints_[index % endpoints_.size()]), ws_seed_ + index);
  co_return co_await ws_upgrade(sockets_[index], link, handshake_buffer_,
                                [this, index](std::string_view line) { on_line(index, line, now_ns()); });
}

asio::awaitable<std::string> LoadRun::stuck_ws_handshake(std::size_t index) {
  auto& link = stuck_ws_[index].emplace(format_endpoint(endpoints_[index % endpoints_.size()]),
                                        ws_seed_ + options_.clients + index);
  co_return co_await ws_upgrade(stuck_sockets_[index], link, handshake_buffer_, [](std::string_view) {});
}

asio::awaitable<void> LoadRun::read(std::size_t index) {
  auto& client = *clients_[index];
  client.read_buffer.resize(read_buffer_size_);
  const auto deliver = [this, index](std::string_view chunk) { on_chunk(index, chunk); };
  if (!client.tls) {
    connection_lost(co_await read_stream(sockets_[index], client.read_buffer, deliver));
    co_return;
  }
  const auto error = co_await read_tls_stream(sockets_[index], *client.tls, client.read_buffer, plain_buffer_,
                                              deliver, [this, index] { return flush_tls(index); });
  if (error == tls_failed()) {
    report_loss(fmt::format("TLS error on a connection to {} during the run: {}", result_.target,
                            client.tls->error()));
  } else {
    connection_lost(error);
  }
}

asio::awaitable<std::error_code> LoadRun::write_out(std::size_t index) {
  auto& client = *clients_[index];
  if (client.tls) {
    client.tls->write_plaintext(client.out);
    co_return co_await flush_tls(index);
  }
  std::error_code error;
  if (client.ws) {
    client.frames = client.ws->take_replies();  // pongs first: they answer what came before
    client.ws->append_lines(client.frames, client.out);
    co_await asio::async_write(sockets_[index], asio::buffer(client.frames),
                               asio::redirect_error(asio::use_awaitable, error));
    co_return error;
  }
  co_await asio::async_write(sockets_[index], asio::buffer(client.out),
                             asio::redirect_error(asio::use_awaitable, error));
  co_return error;
}

asio::awaitable<std::error_code> LoadRun::flush_tls(std::size_t index) {
  auto& client = *clients_[index];
  std::error_code error;
  if (client.writing) co_return error;
  client.writing = true;
  while (!error && client.tls->wants_write()) {
    client.ciphertext = client.tls->take_ciphertext();
    co_await asio::async_write(sockets_[index], asio::buffer(client.ciphertext),
                               asio::redirect_error(asio::use_awaitable, error));
  }
  client.writing = false;
  co_return error;
}

void LoadRun::on_chunk(std::size_t receiver, std::string_view chunk) {
  const std::uint64_t now = now_ns();  // one clock read per chunk: it all arrived at once
  auto& client = *clients_[receiver];
  if (client.ws) {
    const WsLinkState state =
        client.ws->feed(chunk, [&](std::string_view line) { on_line(receiver, line, now); });
    if (client.ws->wants_write()) answer_ping(receiver);
    if (state == WsLinkState::ended) {
      report_loss(
          fmt::format("WebSocket to {} ended during the run: {}", result_.target, client.ws->error()));
    }
    return;
  }
  client.framer.feed(chunk, [&](FrameKind kind, std::string_view line) {
    if (kind == FrameKind::line) on_line(receiver, line, now);
    return true;
  });
}

void LoadRun::on_line(std::size_t receiver, std::string_view line, std::uint64_t now_ns) {
  if (!wire_.server_ping().empty() && line == wire_.server_ping()) {
    answer_ping(receiver);
    return;
  }
  std::size_t pos = 0;
  Token token;
  while (find_token(line, pos, token)) {
    if (token.sender == receiver && wire_.hears_itself()) continue;
    if (token.kind == 'b') {
      if (tracker_.on_received(receiver, token, now_ns) && options_.rate <= 0) {
        clients_[token.sender]->wake.notify();  // its window opened
      }
      continue;
    }
    auto& client = *clients_[receiver];
    if (meant_for(fanout_, receiver, token.sender) && !client.probe_seen && probes_missing_ > 0) {
      client.probe_seen = true;
      if (--probes_missing_ == 0) main_wake_.notify();
    }
  }
}

void LoadRun::answer_ping(std::size_t index) {
  if (index < senders_) {
    // A sender writes the answer with its next batch: one writer per socket.
    clients_[index]->answer_due = true;
    clients_[index]->wake.notify();
    return;
  }
  // Nobody else writes to a receiver's socket after its greeting; the NATS answer is a constant, the
  // WebSocket pong waits in the client (the server pings every 30 s: never two writes at once).
  auto& client = *clients_[index];
  if (client.ws) client.replies = client.ws->take_replies();
  asio::async_write(sockets_[index],
                    asio::buffer(client.ws ? std::string_view(client.replies) : wire_.ping_answer()),
                    [](std::error_code, std::size_t) {});
}

asio::awaitable<void> LoadRun::send(std::size_t index) {
  auto& client = *clients_[index];
  const bool paced = options_.rate > 0;
  // Paced: sender s sends at rate / senders, its schedule offset by s / rate so that the senders
  // together send evenly. Each message is stamped with its intended time, so a late send (a blocked
  // write, a busy generator) counts as latency instead of hiding it (no coordinated omission).
  const double interval_ns = paced ? 1e9 * static_cast<double>(senders_) / options_.rate : 0;
  const double first_ns =
      static_cast<double>(load_start_ns_) + (paced ? 1e9 * static_cast<double>(index) / options_.rate : 0);
  const auto due = [&](std::uint64_t k) {
    return static_cast<std::uint64_t>(first_ns + static_cast<double>(k) * interval_ns);
  };
  const auto add = [&](std::uint64_t stamp) {
    const std::uint64_t seq = tracker_.on_sent(index, stamp);
    wire_.append(client.out, index, Token{'b', static_cast<std::uint32_t>(index), seq, stamp},
                 options_.payload);
  };
  std::uint64_t k = 0;
  while (!stop_sending_) {
    client.out.clear();
    // An answer to the server's ping (nats: in out; WebSocket: a pong that write_out adds) is written even
    // when no message is due.
    const bool answer = std::exchange(client.answer_due, false);
    if (answer) client.out.append(wire_.ping_answer());
    const std::uint64_t now = now_ns();
    if (paced) {
      if (due(k) > now && !answer) {
        co_await client.wake.wait_until(start_ + std::chrono::nanoseconds(due(k)));
        continue;
      }
      for (std::uint64_t n = 0; n < max_batch && due(k) <= now; ++n, ++k)
        add(due(k));
    } else {
      const std::uint64_t in_flight = tracker_.in_flight(index);
      if (in_flight >= window_ && !answer) {
        co_await client.wake.wait_until(Clock::now() + 1s);  // a receipt of ours notifies earlier
        continue;
      }
      const std::uint64_t open = in_flight < window_ ? window_ - in_flight : 0;
      for (std::uint64_t n = std::min<std::uint64_t>(open, max_batch); n > 0; --n)
        add(now);
    }
    const std::error_code error = co_await write_out(index);
    if (error) {
      connection_lost(error);
      co_return;
    }
  }
}

asio::awaitable<void> LoadRun::show_progress() {
  const char* what = fanout_ == Fanout::self ? "round trips" : "deliveries";
  auto last = Clock::now();
  std::uint64_t last_received = tracker_.counts().received;
  for (auto next = last + 1s; !closing_; next += 1s) {
    co_await progress_wake_.wait_until(next);
    if (closing_) break;
    const auto now = Clock::now();
    const std::uint64_t received = tracker_.counts().received;
    const double per_s = static_cast<double>(received - last_received) / to_seconds(now - last);
    const auto& latency = tracker_.latency();
    draw_progress(
        format_progress(static_cast<double>(now_ns() - load_start_ns_) / 1e9, what, per_s,
                        latency.count() > 0 ? std::optional(latency.quantile(0.99)) : std::nullopt));
    last = now;
    last_received = received;
  }
  draw_progress("");
}

void LoadRun::connection_lost(const std::error_code& error) {
  if (closing_ || !result_.error.empty()) return;  // we closed it, or the first loss is reported already
  report_loss(
      error == asio::error::eof
          ? fmt::format("connection to {} closed by the server during the run", result_.target)
          : fmt::format("connection to {} failed during the run: {}", result_.target, describe(error)));
}

void LoadRun::report_loss(std::string what) {
  if (closing_ || !result_.error.empty()) return;
  result_.error = std::move(what);
  stop_sending_ = true;
  main_wake_.notify();
}

}  // namespace dschat::bench
