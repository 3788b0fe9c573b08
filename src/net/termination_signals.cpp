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
  sigaddset(&set, SIGHUP);  // the terminal closed: shut down like SIGTERM, not die silently
  if (const int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0) {
    throw Error("cannot block SIGINT, SIGTERM and SIGHUP: " + std::generic_category().message(error));
  }
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    throw Error("cannot watch SIGINT, SIGTERM and SIGHUP: " + std::generic_category().message(errno));
  }
  return fd;
}

}  // namespace

std::string_view signal_name(int number) noexcept {
  switch (number) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
  }
}

TerminationSignals::TerminationSignals(const asio::any_io_executor& executor)
    : descriptor_(executor, open_signal_descriptor()) {}

void TerminationSignals::cancel() noexcept {
  std::error_code ignored;
  descriptor_.cancel(ignored);
}

}  // namespace dschat
