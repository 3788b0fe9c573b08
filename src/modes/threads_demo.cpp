#include "modes/threads_demo.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace dschat {

namespace {

/// Writes whole lines under a lock, so two threads never mix their output within a line.
class LinePrinter {
 public:
  void print(const std::string& line) {
    const std::scoped_lock lock(mutex_);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  std::mutex mutex_;
};

/// The kernel's id of the calling thread: the one `ps -L` (LWP) and `top -H` (PID) show, unlike
/// std::thread::id, which is the address of the thread's control block.
long kernel_thread_id() noexcept {
  return static_cast<long>(::gettid());
}

}  // namespace

ExitCode run_threads_demo(const ThreadsDemoOptions& options) {
  // Sleep times are drawn up front from one generator so a seed reproduces them whatever the scheduling.
  std::mt19937_64 generator(options.seed.value_or(std::random_device{}()));
  std::uniform_int_distribution<long> milliseconds(0, static_cast<long>(options.max_sleep * 1000));
  std::vector<std::chrono::milliseconds> sleeps;
  for (unsigned i = 0; i < options.threads; ++i)
    sleeps.emplace_back(milliseconds(generator));

  LinePrinter printer;
  {
    std::vector<std::jthread> threads;
    for (unsigned i = 0; i < options.threads; ++i) {
      threads.emplace_back([&printer, number = i + 1, sleep = sleeps[i]] {
        // The greeting exactly as the exercise has it, and the kernel id on a line of its own; both are
        // printed at once so no other thread's line comes between them.
        printer.print(fmt::format("Hi, I'm thread {}\nThread {} is kernel thread {}\n", number, number,
                                  kernel_thread_id()));
        std::this_thread::sleep_for(sleep);
        printer.print(fmt::format("Bye from thread {} after sleeping {:.3f} s\n", number,
                                  std::chrono::duration<double>(sleep).count()));
      });
    }
  }  // every jthread joins here
  return ExitCode::ok;
}

}  // namespace dschat
