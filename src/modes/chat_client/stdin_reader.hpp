#pragma once

#include <asio/io_context.hpp>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dschat {

/// Lines read from standard input in one go.
struct InputBatch {
  std::vector<std::string> lines;  ///< complete lines, without line endings
  std::size_t skipped = 0;         ///< lines dropped for being longer than max_line
  bool end = false;                ///< standard input ended (or failed) after these lines
};

/// Reads standard input on its own thread, whatever it is — terminal, pipe or regular file (epoll cannot
/// wait on regular files) — and hands the lines to the io_context's thread in batches. After each batch
/// it waits for resume(), so a large file never piles up in memory faster than the socket takes it.
class StdinReader {
 public:
  using OnBatch = std::function<void(InputBatch)>;

  /// Starts reading at once; on_batch runs on the thread running io, never after stop() was called there.
  StdinReader(asio::io_context& io, std::size_t max_line, OnBatch on_batch);

  /// Stops and joins the thread.
  ~StdinReader();

  StdinReader(const StdinReader&) = delete;
  StdinReader& operator=(const StdinReader&) = delete;

  /// Lets the thread read the next batch (call on the io thread once the last batch was handled).
  void resume();

  /// Stops reading: wakes the thread wherever it waits. Idempotent; call on the io thread.
  void stop();

 private:
  void run(std::stop_token token);
  /// Waits until fd 0 is readable; false when stopped.
  bool wait_readable(const std::stop_token& token) const;

  asio::io_context& io_;
  std::size_t max_line_;
  OnBatch on_batch_;
  int wake_[2] = {-1, -1};  ///< a pipe: one byte in it wakes the poll() on fd 0
  bool stopped_ = false;    ///< io thread only
  std::mutex mutex_;
  std::condition_variable_any resumed_;
  bool paused_ = false;  ///< guarded by mutex_
  std::jthread thread_;  ///< last: starts after everything above exists
};

}  // namespace dschat
