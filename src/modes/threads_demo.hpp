#pragma once

#include <cstdint>
#include <optional>

#include "core/exit_code.hpp"

namespace dschat {

/// Flags of `dschat threads-demo`.
struct ThreadsDemoOptions {
  unsigned threads = 3;
  double max_sleep = 2.0;             ///< seconds
  std::optional<std::uint64_t> seed;  ///< unset: a random seed
};

/// Starts the threads; each greets, sleeps a random time, says goodbye; all are joined.
ExitCode run_threads_demo(const ThreadsDemoOptions& options);

}  // namespace dschat
