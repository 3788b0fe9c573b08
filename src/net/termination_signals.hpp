#pragma once

#include <sys/signalfd.h>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace dschat {

/// "SIGINT", "SIGTERM", "SIGHUP" (or "signal") for a log line.
std::string_view signal_name(int number) noexcept;

/// SIGINT, SIGTERM and SIGHUP as readable events of an io_context (Linux signalfd) instead of signal
/// handlers: each one asks a server to shut down (SIGHUP: its terminal has gone).
///
/// The constructor blocks the signals in the calling thread, so it must run before the process starts
/// any other thread: those inherit the mask, no thread is ever interrupted, and a signal that arrives
/// before the first wait stays pending until it is read. No handler runs, so nothing depends on how a
/// signal and a blocking epoll_wait race (ThreadSanitizer defers handlers and could lose that race).
class TerminationSignals {
 public:
  /// Blocks SIGINT, SIGTERM and SIGHUP and opens the descriptor on executor; throws Error when it cannot.
  explicit TerminationSignals(const asio::any_io_executor& executor);

  /// Completes with the number of the next SIGINT, SIGTERM or SIGHUP, or with operation_aborted after
  /// cancel().
  template <typename CompletionToken>
  auto async_wait(CompletionToken&& token) {
    return asio::async_compose<CompletionToken, void(std::error_code, int)>(
        [this, started = false](auto& self, std::error_code error = {}, std::size_t = 0) mutable {
          if (!started) {
            started = true;
            descriptor_.async_read_some(asio::buffer(&info_, sizeof info_), std::move(self));
            return;
          }
          self.complete(error, error ? 0 : static_cast<int>(info_.ssi_signo));
        },
        token, descriptor_);
  }

  /// Ends a pending async_wait with operation_aborted.
  void cancel() noexcept;

 private:
  asio::posix::stream_descriptor descriptor_;
  signalfd_siginfo info_{};
};

}  // namespace dschat
