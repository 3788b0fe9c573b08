#include "net/termination_signals.hpp"

#include <pthread.h>

#include <cerrno>
#include <csignal>

#include "core/error.hpp"

namespace dschat {

namespace {

int open_signal_descriptor() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (const int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0) {
    throw Error("cannot block SIGINT and SIGTERM: " + std::generic_category().message(error));
  }
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw Error("cannot watch SIGINT and SIGTERM: " + std::generic_category().message(errno));
  return fd;
}

}  // namespace

TerminationSignals::TerminationSignals(const asio::any_io_executor& executor)
    : descriptor_(executor, open_signal_descriptor()) {}

void TerminationSignals::cancel() noexcept {
  std::error_code ignored;
  descriptor_.cancel(ignored);
}

}  // namespace dschat
