#pragma once

#include "core/exit_code.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve.hpp"

namespace dschat {

/// serve --mode async: one event-loop thread, C++20 coroutines; chat service by default, echo on request.
/// Runs until SIGINT/SIGTERM, then tells the clients, flushes for up to 2 s and returns ok.
ExitCode run_async(const ServeOptions& options, const ConnectionLog& log);

}  // namespace dschat
