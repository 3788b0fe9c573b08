#include "modes/async/async_server.hpp"

#include "modes/async/server.hpp"
#include "net/process.hpp"

namespace dschat {

ExitCode run_async(const ServeOptions& options, const ConnectionLog& log) {
  const std::size_t fd_limit = raise_fd_limit();
  if (fd_limit < options.max_clients) {
    // Not fatal: past the limit accept() fails and is retried, the connected clients are unaffected.
    log.logger().warn("open-file limit {} is below --max-clients {}", fd_limit, options.max_clients);
  }
  async_mode::Server server(options, log);
  return server.run();
}

}  // namespace dschat
