#include "modes/chat_client/stdin_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <asio/post.hpp>
#include <cerrno>
#include <string_view>
#include <system_error>

#include "core/line_framer.hpp"

namespace dschat {

StdinReader::StdinReader(asio::io_context& io, std::size_t max_line, OnBatch on_batch)
    : io_(io), max_line_(max_line), on_batch_(std::move(on_batch)) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  thread_ = std::jthread([this](std::stop_token token) { run(std::move(token)); });
}

StdinReader::~StdinReader() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void StdinReader::resume() {
  {
    const std::lock_guard lock(mutex_);
    paused_ = false;
  }
  resumed_.notify_one();
}

void StdinReader::stop() {
  stopped_ = true;
  thread_.request_stop();
}

bool StdinReader::wait_readable(const std::stop_token& token) const {
  std::array<pollfd, 2> fds{{{STDIN_FILENO, POLLIN, 0}, {wake_[0], POLLIN, 0}}};
  while (!token.stop_requested()) {
    // A regular file is always readable, so this returns at once there; for a pipe or a terminal it
    // sleeps until input or the wake-up byte from stop.
    const int ready = ::poll(fds.data(), fds.size(), -1);
    if (ready < 0 && errno == EINTR) continue;
    if (fds[1].revents != 0) return false;
    return true;  // readable, hung up, or an error that read() will report
  }
  return false;
}

void StdinReader::run(std::stop_token token) {
  const std::stop_callback wake(token, [this] {
    const char byte = 0;
    [[maybe_unused]] const auto written = ::write(wake_[1], &byte, 1);
  });
  LineFramer framer(max_line_);
  std::array<char, 64 * 1024> buffer{};
  for (;;) {
    if (!wait_readable(token)) return;
    const ssize_t got = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    InputBatch batch;
    auto collect = [&batch](FrameKind kind, std::string_view line) {
      if (kind == FrameKind::line) {
        batch.lines.emplace_back(line);
      } else {
        ++batch.skipped;
      }
      return true;
    };
    if (got > 0) {
      framer.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)), collect);
    } else {  // end of input, or an error such as EIO from a terminal that went away: both end the input
      framer.finish(collect);
      batch.end = true;
    }
    if (batch.lines.empty() && batch.skipped == 0 && !batch.end) continue;

    const bool batch_end = batch.end;
    std::unique_lock lock(mutex_);
    paused_ = true;
    asio::post(io_, [this, batch = std::move(batch)]() mutable {
      if (!stopped_) on_batch_(std::move(batch));
    });
    if (batch_end) return;
    if (!resumed_.wait(lock, token, [this] { return !paused_; })) return;
  }
}

}  // namespace dschat
