#include "modes/async/disconnect_reason.hpp"

#include <asio/error.hpp>

#include "net/endpoint.hpp"

namespace dschat::async_mode {

std::string disconnect_reason(const std::error_code& error) {
  // A reset shows up as ECONNRESET on a read and often as EPIPE on a write: to the people in the room both
  // mean the same thing.
  if (error == asio::error::connection_reset || error == asio::error::broken_pipe ||
      error == asio::error::connection_aborted) {
    return "connection reset";
  }
  return describe(error);
}

}  // namespace dschat::async_mode
