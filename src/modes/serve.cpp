#include "modes/serve.hpp"

#include "core/error.hpp"
#include "log/connection_logger.hpp"
#include "modes/async/async_server.hpp"
#include "modes/once.hpp"
#include "modes/threaded.hpp"
#include "net/process.hpp"

namespace dschat {

Service default_service(ServeMode mode) noexcept {
  return mode == ServeMode::async ? Service::chat : Service::echo;
}

std::uint16_t default_port(ServeMode mode) noexcept {
  return mode == ServeMode::async ? 8888 : 8080;
}

ExitCode run_serve(const ServeOptions& options) {
  if (options.mode == ServeMode::once && options.service.value_or(Service::echo) != Service::echo) {
    throw UsageError("--mode once serves echo only");
  }
  ignore_sigpipe();
  const ConnectionLog log(make_logger("server", options.verbose));
  switch (options.mode) {
    case ServeMode::once:
      return run_once(options, log);
    case ServeMode::threaded:
      return run_threaded(options, log);
    case ServeMode::async:
      return run_async(options, log);
  }
  return ExitCode::usage;
}

}  // namespace dschat
