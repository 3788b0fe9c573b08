#include "modes/bench/task_group.hpp"

#include <asio/co_spawn.hpp>
#include <utility>

namespace dschat::bench {

void TaskGroup::spawn(asio::awaitable<void> task) {
  ++running_;
  asio::co_spawn(executor_, std::move(task), [this](const std::exception_ptr& error) {
    if (error && !error_) error_ = error;
    if (--running_ == 0) done_.notify();
  });
}

asio::awaitable<void> TaskGroup::join() {
  co_await join_until(Wakeup::Clock::time_point::max());
}

asio::awaitable<bool> TaskGroup::join_until(Wakeup::Clock::time_point deadline) {
  while (running_ > 0 && Wakeup::Clock::now() < deadline)
    co_await done_.wait_until(deadline);
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  co_return running_ == 0;
}

void run_to_completion(asio::io_context& io, asio::awaitable<void> task) {
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&error](const std::exception_ptr& e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
}

}  // namespace dschat::bench
