#pragma once

#include "core/exit_code.hpp"
#include "modes/serve_options.hpp"

namespace dschat {

/// Runs the server the options describe until it is done (once) or signalled.
ExitCode run_serve(const ServeOptions& options);

}  // namespace dschat
