#include "modes/bench/connect_many.hpp"

#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "modes/bench/task_group.hpp"
#include "net/endpoint.hpp"

namespace dschat::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// What the workers of one connect_many share.
struct Connecting {
  Connecting(std::vector<asio::ip::tcp::socket>& sockets_, const ConnectPlan& plan_,
             const std::function<void(std::size_t)>& on_open_)
      : sockets(sockets_), plan(plan_), on_open(on_open_) {}

  std::vector<asio::ip::tcp::socket>& sockets;
  const ConnectPlan& plan;
  const std::function<void(std::size_t)>& on_open;
  Clock::time_point start = Clock::now();
  std::vector<bool> in_progress = std::vector<bool>(sockets.size(), false);
  std::size_t next = 0;
  bool stop = false;
  bool timed_out = false;
  ConnectOutcome outcome;
};

asio::awaitable<void> connect_worker(Connecting& c) {
  Wakeup pacing(co_await asio::this_coro::executor);
  while (!c.stop && c.next < c.sockets.size()) {
    const std::size_t index = c.next++;
    if (c.plan.per_second > 0) {
      const auto due = c.start + to_duration(static_cast<double>(index) / c.plan.per_second);
      if (due > Clock::now()) co_await pacing.wait_until(due);
      if (c.stop) break;
    }
    auto& socket = c.sockets[index];
    std::error_code error;
    c.in_progress[index] = true;
    const auto& endpoint = c.plan.endpoints[index % c.plan.endpoints.size()];
    co_await socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, error));
    std::string failure;
    if (!error) {
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // best effort: only latency suffers
      // Still in progress: a timeout closes the socket, which ends the handshake too.
      if (c.plan.handshake) failure = co_await c.plan.handshake(index);
    } else {
      failure = c.timed_out && error == asio::error::operation_aborted ? "timed out" : describe(error);
    }
    c.in_progress[index] = false;
    if (failure.empty()) {
      ++c.outcome.opened;
      c.on_open(index);
      continue;
    }
    ++c.outcome.failed;
    if (c.outcome.first_failure.empty()) c.outcome.first_failure = c.timed_out ? "timed out" : failure;
    socket.close(error);
    if (c.plan.stop_on_failure) c.stop = true;
  }
}

}  // namespace

asio::awaitable<ConnectOutcome> connect_many(std::vector<asio::ip::tcp::socket>& sockets,
                                             const ConnectPlan& plan,
                                             const std::function<void(std::size_t)>& on_open) {
  Connecting c(sockets, plan, on_open);
  auto deadline = c.start + plan.timeout + sockets.size() * std::chrono::milliseconds(10);
  if (plan.per_second > 0) {
    deadline += to_duration(static_cast<double>(sockets.size()) / plan.per_second);
  }
  TaskGroup workers(co_await asio::this_coro::executor);
  for (std::size_t i = 0; i < plan.parallel && i < sockets.size(); ++i)
    workers.spawn(connect_worker(c));
  if (!co_await workers.join_until(deadline)) {
    // Closing a connecting socket completes its async_connect with operation_aborted.
    c.timed_out = c.stop = true;
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      std::error_code ignored;
      if (c.in_progress[i]) sockets[i].close(ignored);
    }
    co_await workers.join();
    if (c.outcome.first_failure.empty()) c.outcome.first_failure = "timed out";
  }
  c.outcome.failed = sockets.size() - c.outcome.opened;  // counting those never tried
  co_return c.outcome;
}

}  // namespace dschat::bench
