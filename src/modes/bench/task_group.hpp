#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <cstddef>
#include <exception>

#include "modes/bench/wakeup.hpp"

namespace dschat::bench {

/// Coroutines started on one thread and awaited together, so that none outlives the run (none is
/// detached). An exception escaping a task is kept and rethrown by join().
class TaskGroup {
 public:
  /// Tasks run on executor (one thread).
  explicit TaskGroup(const asio::any_io_executor& executor) : executor_(executor), done_(executor) {}

  /// Starts task; it begins running once the current coroutine suspends.
  void spawn(asio::awaitable<void> task);

  /// Waits until every task has finished; rethrows the first exception one of them threw.
  asio::awaitable<void> join();

  /// Like join, but gives up at deadline; returns whether every task finished.
  asio::awaitable<bool> join_until(Wakeup::Clock::time_point deadline);

 private:
  asio::any_io_executor executor_;
  Wakeup done_;
  std::size_t running_ = 0;
  std::exception_ptr error_;
};

/// Runs task on io until io runs out of work (every task it spawned included); rethrows what escaped task.
void run_to_completion(asio::io_context& io, asio::awaitable<void> task);

}  // namespace dschat::bench
