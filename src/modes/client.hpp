#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/exit_code.hpp"
#include "modes/tls_client.hpp"

namespace dschat {

/// Flags of `dschat client`.
struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::vector<std::string> words;  ///< when given: send them as one line, print the reply, exit
  std::size_t max_line = 64 * 1024;
  double timeout = 10;  ///< seconds to wait for each reply, 0 = forever
  TlsClientFlags tls;   ///< --tls and how the server is verified
};

/// The line client: each input line is sent and its reply printed; stops after `end` or end of input.
/// Exits 1 when a reply is an error (`! …`) or none comes within the timeout.
ExitCode run_client(const ClientOptions& options);

}  // namespace dschat
