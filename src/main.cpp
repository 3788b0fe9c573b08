#include <cstdio>
#include <exception>

#include "cli.hpp"
#include "core/error.hpp"

// Thin on purpose: everything below the CLI throws, and this is the one place that turns an escaped
// exception into a single line on stderr and an exit code.
int main(int argc, char** argv) {
  try {
    return static_cast<int>(dschat::run_cli(argc, argv));
  } catch (const dschat::UsageError& e) {
    std::fprintf(stderr, "dschat: %s\n", e.what());
    return static_cast<int>(dschat::ExitCode::usage);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dschat: %s\n", e.what());
    return static_cast<int>(dschat::ExitCode::failure);
  } catch (...) {
    std::fprintf(stderr, "dschat: unexpected internal error\n");
    return static_cast<int>(dschat::ExitCode::failure);
  }
}
