#pragma once

#include "core/exit_code.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve.hpp"

namespace dschat {

/// The thread-per-connection server (DESIGN §1–§3): one thread per client, echo or chat service, until
/// SIGINT/SIGTERM; then tells clients, flushes for up to 2 s, joins every thread and returns ok.
ExitCode run_threaded(const ServeOptions& options, const ConnectionLog& log);

}  // namespace dschat
