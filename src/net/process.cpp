#include "net/process.hpp"

#include <sys/resource.h>

#include <csignal>

namespace dschat {

std::optional<std::size_t> raise_fd_limit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return static_cast<std::size_t>(limit.rlim_cur);
}

void ignore_sigpipe() noexcept {
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace dschat
