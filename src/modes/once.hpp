#pragma once

#include "core/exit_code.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve_options.hpp"

namespace dschat {

/// The iterative exercise: accept one client, print its first line, echo it back, exit.
ExitCode run_once(const ServeOptions& options, const ConnectionLog& log);

}  // namespace dschat
