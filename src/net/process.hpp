#pragma once

#include <cstddef>
#include <optional>

namespace dschat {

/// Raises the soft open-file limit to the hard limit; returns the limit now in force, or nullopt when the
/// limit cannot be read.
std::optional<std::size_t> raise_fd_limit() noexcept;

/// Makes writes to a closed socket fail with EPIPE instead of killing the process.
void ignore_sigpipe() noexcept;

}  // namespace dschat
