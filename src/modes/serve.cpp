#include "modes/serve.hpp"

#include "core/error.hpp"
#include "log/connection_logger.hpp"
#include "modes/async/server.hpp"
#include "modes/once.hpp"
#include "modes/threaded/server.hpp"
#include "net/process.hpp"

namespace dschat {

ExitCode run_serve(const ServeOptions& options) {
  if (options.mode == ServeMode::once && service_of(options) != Service::echo) {
    throw UsageError("--mode once serves echo only");
  }
  ignore_sigpipe();
  const ConnectionLog log(make_logger("server", options.verbose));
  switch (options.mode) {
    case ServeMode::once:
      return run_once(options, log);
    case ServeMode::threaded:
      return threaded::run_server(options, log);
    case ServeMode::async:
      return async::run_server(options, log);
  }
  return ExitCode::usage;
}

}  // namespace dschat
