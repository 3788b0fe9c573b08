#pragma once

#include "log/connection_logger.hpp"
#include "modes/serve_options.hpp"
#include "modes/threaded/connection.hpp"

namespace dschat::threaded {

/// Echo service for one client, on its own thread: reply each line with itself until `end`, end of
/// stream, an error or the server stops; then close and log the disconnection.
void serve_echo_client(Connection& connection, const ServeOptions& options, const ConnectionLog& log);

}  // namespace dschat::threaded
