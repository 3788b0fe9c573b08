#include "modes/bench/load_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/write.hpp>
#include <exception>
#include <utility>

#include "core/error.hpp"
#include "modes/bench/connect_many.hpp"
#include "modes/bench/run_setup.hpp"

namespace dschat::bench {

using namespace std::chrono_literals;

LoadRun::LoadRun(const BenchOptions& options, std::vector<asio::ip::tcp::endpoint> endpoints,
                 const TlsContext* tls)
    : options_(options),
      endpoints_(std::move(endpoints)),
      tls_(tls),
      fanout_(options.scenario == BenchScenario::echo ? Fanout::self : Fanout::others),
      wire_{options.proto, fanout_},
      senders_(std::min(options.senders.value_or(options.clients), options.clients)),
      window_(options.window.value_or(fanout_ == Fanout::self ? 1 : 32)),
      // Each receiving client reads into its own buffer (see read_stream): 64 KiB each for up to 256
      // clients, then smaller, so that the buffers together stay within 16 MiB (4 KiB at least).
      read_buffer_size_(std::clamp<std::size_t>(
          (std::size_t{16} << 20) / std::max<std::size_t>(options.clients, 1), 4 * 1024, 64 * 1024)),
      tracker_(options.clients, senders_, fanout_, endpoints_.size()),
      main_wake_(io_.get_executor()),
      progress_wake_(io_.get_executor()),
      result_(new_result(options)) {
  sockets_.reserve(options.clients);
  clients_.reserve(options.clients);
  for (std::size_t i = 0; i < options.clients; ++i) {
    sockets_.emplace_back(io_);
    clients_.push_back(std::make_unique<Client>(io_));
  }
  for (std::size_t i = 0; i < options.stuck; ++i) {
    // A small fixed receive buffer (no autotuning): a client that never reads fills up after a few
    // KiB, so the server's own queue for it is what grows, as with a real stalled client.
    auto& socket = stuck_sockets_.emplace_back(io_);
    socket.open(endpoints_[i % endpoints_.size()].protocol());
    socket.set_option(asio::socket_base::receive_buffer_size(4096));
  }
  if (tls_) {
    stuck_tls_.resize(options.stuck);
    plain_buffer_.resize(64 * 1024);
    handshake_buffer_.resize(16 * 1024);
  }
  if (options.ws) {
    stuck_ws_.resize(options.stuck);
    handshake_buffer_.resize(16 * 1024);
    ws_seed_ = random_seed();
  }
}

BenchResult LoadRun::run() {
  TaskGroup tasks(io_.get_executor());
  run_to_completion(io_, main(tasks));
  if (!connect_failure_.empty()) throw Error(connect_failure_);
  // Lost before the load started: nothing was measured, so there is no summary to show.
  if (!result_.error.empty() && load_start_ns_ == 0) throw Error(result_.error);
  return result_;
}

asio::awaitable<void> LoadRun::main(TaskGroup& tasks) {
  std::exception_ptr error;
  try {
    ConnectPlan plan{endpoints_, options_.connect_rate};
    ConnectPlan stuck_plan = plan;
    if (tls_) {
      plan.handshake = [this](std::size_t i) { return handshake(i); };
      stuck_plan.handshake = [this](std::size_t i) { return stuck_handshake(i); };
    } else if (options_.ws) {
      plan.handshake = [this](std::size_t i) { return ws_handshake(i); };
      stuck_plan.handshake = [this](std::size_t i) { return stuck_ws_handshake(i); };
    }
    // The stuck clients first: by the time the probe has reached every reading client, they are in
    // the room too and get every load message that they will never read.
    // (No co_await inside a conditional expression: GCC 12 miscompiles that.)
    // Stuck clients greet a broker too (numbered after the others), so that it sends them the load.
    auto connected = co_await connect_many(
        stuck_sockets_, stuck_plan, [&](std::size_t i) { greet(stuck_sockets_[i], options_.clients + i); });
    bool all_open = connected.opened == stuck_sockets_.size();
    if (all_open) {
      connected = co_await connect_many(sockets_, plan, [&](std::size_t i) {
        greet(sockets_[i], i);
        tasks.spawn(read(i));
      });
      all_open = connected.opened == sockets_.size();
    }
    if (!all_open) {
      connect_failure_ = fmt::format("cannot connect to {}: {}", result_.target, connected.first_failure);
    } else if (co_await probe()) {
      co_await measure(tasks);
    }
  } catch (...) {
    error = std::current_exception();
  }
  // Whatever happened, every task ends before the run does.
  close_all();
  co_await tasks.join();
  if (error) std::rethrow_exception(error);
}

asio::awaitable<bool> LoadRun::probe() {
  // Broadcast: once a line of client 0 reached every other client, all of them are in the room and no
  // load message can miss a late joiner. Echo: each sender's line must come back to it.
  const bool echo = fanout_ == Fanout::self;
  const std::size_t probes = echo ? senders_ : clients_.size() - 1;
  probes_missing_ = probes;
  const auto deadline = Clock::now() + 10s;
  for (std::uint64_t round = 0; probes_missing_ > 0 && result_.error.empty(); ++round) {
    if (Clock::now() >= deadline) {
      const std::size_t got = probes - probes_missing_;
      // Some but not all: the server accepts slower than we connect (a small listen backlog overflowed,
      // the kernel retries those handshakes for seconds). None: it is not this kind of server.
      const std::string hint =
          got > 0 ? fmt::format("{} of {} did; try --connect-rate 200", got, got + probes_missing_)
                  : std::string(echo ? "is it an echo server?" : "is it a chat server?");
      connect_failure_ = echo ? fmt::format("no line came back from {} within 10 s: {}", result_.target, hint)
                              : fmt::format("{} did not relay a line to every other client within 10 s: {}",
                                            result_.target, hint);
      co_return false;
    }
    for (std::size_t i = 0; i < (echo ? senders_ : 1); ++i) {
      if (echo && clients_[i]->probe_seen) continue;
      auto& out = clients_[i]->out;
      out.clear();
      wire_.append(out, i, Token{'p', static_cast<std::uint32_t>(i), round, now_ns()}, options_.payload);
      if (const auto error = co_await write_out(i)) {
        connection_lost(error);
        co_return false;
      }
    }
    co_await main_wake_.wait_until(std::min(deadline, Clock::now() + 200ms));
  }
  co_return result_.error.empty();
}

asio::awaitable<void> LoadRun::measure(TaskGroup& tasks) {
  load_start_ns_ = now_ns();
  for (std::size_t s = 0; s < senders_; ++s)
    tasks.spawn(send(s));
  if (progress_wanted()) tasks.spawn(show_progress());
  co_await pause_until(Clock::now() + to_duration(options_.warmup));

  const auto measure_start = Clock::now();
  const std::uint64_t measure_start_ns = now_ns();
  tracker_.begin_measurement(measure_start_ns);
  const auto server_before = sample_servers(options_);
  const double cpu_before = own_cpu_seconds();
  co_await pause_until(measure_start + to_duration(options_.duration));

  stop_sending_ = true;
  for (auto& client : clients_)
    client->wake.notify();
  const auto send_end = Clock::now();
  result_.duration_s = to_seconds(send_end - measure_start);  // shorter than asked when the run failed
  const auto drain_deadline = send_end + to_duration(options_.drain);
  // Polling is plenty here: the drain waits for the last few deliveries, at most --drain seconds.
  while (tracker_.counts().delivered < tracker_.expected() && result_.error.empty() &&
         Clock::now() < drain_deadline) {
    co_await main_wake_.wait_until(std::min(drain_deadline, Clock::now() + 5ms));
  }
  result_.generator_cpu_s = own_cpu_seconds() - cpu_before;
  result_.generator_wall_s = to_seconds(Clock::now() - measure_start);
  const auto server_after = sample_servers(options_);

  const auto& counts = tracker_.counts();
  result_.sent = counts.measured_sent;
  result_.expected = tracker_.expected();
  result_.delivered = counts.delivered;
  result_.duplicates = counts.duplicates;
  result_.order_violations = counts.order_violations;
  result_.unexpected = counts.unexpected;
  const std::uint64_t end_ns =
      counts.delivered > 0 ? counts.last_delivery_ns
                           : static_cast<std::uint64_t>(std::chrono::nanoseconds(send_end - start_).count());
  result_.measured_s = static_cast<double>(end_ns - std::min(end_ns, measure_start_ns)) / 1e9;
  result_.latency = summarize(tracker_.latency());
  if (endpoints_.size() > 1) {
    result_.same_server = summarize(tracker_.same_server_latency());
    result_.cross_server = summarize(tracker_.cross_server_latency());
  }
  add_server_figures(result_, options_, server_before, server_after);
  if (result_.lost() > 0 && result_.error.empty()) {
    result_.warnings.push_back(fmt::format("{} deliveries still missing {:g} s after sending stopped",
                                           result_.lost(), options_.drain));
  }
  if (counts.unexpected > 0) {
    result_.warnings.push_back(fmt::format("{} lines reached a client that should not get them ({})",
                                           counts.unexpected,
                                           fanout_ == Fanout::self ? "does the server relay to the others?"
                                                                   : "does the server echo to the sender?"));
  }
  check_generator_load(result_);
}

asio::awaitable<void> LoadRun::pause_until(Clock::time_point deadline) {
  while (Clock::now() < deadline && result_.error.empty())
    co_await main_wake_.wait_until(deadline);
}

void LoadRun::close_all() {
  closing_ = true;
  stop_sending_ = true;
  for (auto& socket : sockets_) {
    std::error_code ignored;
    socket.close(ignored);  // completes its pending read and write with operation_aborted
  }
  for (auto& socket : stuck_sockets_) {
    std::error_code ignored;
    socket.close(ignored);
  }
  for (auto& client : clients_)
    client->wake.notify();
  progress_wake_.notify();
}

std::uint64_t LoadRun::now_ns() const noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count());
}

}  // namespace dschat::bench
