#pragma once

#include "core/exit_code.hpp"

namespace dschat {

/// Parses the command line and runs the chosen subcommand. Bad usage throws UsageError; --help and
/// --version print and return ok.
ExitCode run_cli(int argc, char** argv);

}  // namespace dschat
