#include "modes/serve.hpp"

#include "log/connection_logger.hpp"
#include "modes/once.hpp"
#include "net/process.hpp"

namespace dschat {

std::uint16_t default_port(ServeMode mode) noexcept {
  return mode == ServeMode::async ? 8888 : 8080;
}

ExitCode run_serve(const ServeOptions& options) {
  ignore_sigpipe();
  const ConnectionLog log(make_logger("server", options.verbose));
  switch (options.mode) {
    case ServeMode::once:
      return run_once(options, log);
    case ServeMode::threaded:
    case ServeMode::async:
      break;
  }
  return ExitCode::usage;
}

}  // namespace dschat
