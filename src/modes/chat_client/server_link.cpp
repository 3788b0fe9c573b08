#include "modes/chat_client/server_link.hpp"

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <exception>

namespace dschat {

namespace {

/// Rethrows what escaped a coroutine, so it leaves io.run() and reaches main instead of vanishing.
void rethrow(const std::exception_ptr& error) {
  if (error) std::rethrow_exception(error);
}

// One write carries at most this much, so a long queue is sent in few system calls.
constexpr std::size_t write_chunk = 64 * 1024;

}  // namespace

ServerLink::ServerLink(asio::ip::tcp::socket socket, std::size_t max_line)
    : socket_(std::move(socket)), wake_writer_(socket_.get_executor()), framer_(max_line) {}

void ServerLink::start(OnFrame on_frame, OnClosed on_closed, OnDrained on_drained) {
  on_frame_ = std::move(on_frame);
  on_closed_ = std::move(on_closed);
  on_drained_ = std::move(on_drained);
  asio::co_spawn(socket_.get_executor(), read_loop(), rethrow);
  asio::co_spawn(socket_.get_executor(), write_loop(), rethrow);
}

void ServerLink::send(std::string_view line) {
  if (closed_) return;
  std::string framed;
  framed.reserve(line.size() + 1);
  framed.append(line).push_back('\n');
  queue_.push_back(std::move(framed));
  wake_writer_.cancel();
}

void ServerLink::close() noexcept {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  wake_writer_.cancel();
}

void ServerLink::report_closed(const std::error_code& error) {
  if (closed_) return;
  close();
  on_closed_(error);
}

asio::awaitable<void> ServerLink::read_loop() {
  std::array<char, 16 * 1024> buffer{};
  for (;;) {
    std::error_code error;
    const std::size_t got = co_await socket_.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
    // on_frame may close the link; the framer stops handing out lines then.
    framer_.feed(std::string_view(buffer.data(), got), [this](FrameKind kind, std::string_view line) {
      if (!closed_) on_frame_(kind, line);
      return !closed_;
    });
    if (closed_) co_return;
    if (error) {
      framer_.finish([this](FrameKind kind, std::string_view line) { on_frame_(kind, line); });
      report_closed(error);
      co_return;
    }
  }
}

asio::awaitable<void> ServerLink::write_loop() {
  std::string chunk;
  while (!closed_) {
    if (queue_.empty()) {
      if (on_drained_) on_drained_();
      if (!queue_.empty() || closed_) continue;
      std::error_code ignored;  // cancelled by send() or close(): either way, look again
      wake_writer_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_writer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      continue;
    }
    chunk.clear();
    while (!queue_.empty() && (chunk.empty() || chunk.size() + queue_.front().size() <= write_chunk)) {
      chunk += queue_.front();
      queue_.pop_front();
    }
    std::error_code error;
    co_await asio::async_write(socket_, asio::buffer(chunk),
                               asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      report_closed(error);
      co_return;
    }
  }
}

}  // namespace dschat
