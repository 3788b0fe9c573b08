#pragma once

namespace dschat {

/// Process exit codes shared by every mode.
enum class ExitCode : int {
  ok = 0,
  failure = 1,
  usage = 2,
  interrupted = 130,
};

}  // namespace dschat
