#pragma once

#include "core/exit_code.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve_options.hpp"

namespace dschat::threaded {

/// serve --mode threaded (README, docs/protocol.md): one thread per client, echo or chat service, until
/// SIGINT or SIGTERM; then tells the clients, flushes for up to 1.2 s, joins every thread and returns ok.
ExitCode run_server(const ServeOptions& options, const ConnectionLog& log);

}  // namespace dschat::threaded
