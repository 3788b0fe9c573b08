// The writing half of a Session: sleep while the outbox is empty, then send everything queued in one
// gathered write, so messages that piled up during a slow moment leave in one syscall.

#include <array>
#include <asio/socket_base.hpp>

#include "modes/async/asio_compat.hpp"
#include "modes/async/disconnect_reason.hpp"
#include "modes/async/session.hpp"

namespace dschat::async_mode {
namespace {

// Asio hands at most 64 buffers to one writev; more pieces would only be split again.
constexpr std::size_t max_pieces = 64;

}  // namespace

asio::awaitable<void> Session::write_loop() {
  while (!failed_) {
    if (outbox_.empty()) {
      if (closing_) {
        std::error_code ignored;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);  // everything sent: our FIN
        co_return;
      }
      wake_.expires_at(Clock::time_point::max());
      co_await wake_.async_wait(use_tuple);  // send(), fail() and run() cancel it
      continue;
    }
    // Only a full kernel buffer makes the writer wait.
    if (write_now() || failed_) continue;
    const auto [wait_error] = co_await socket_.async_wait(asio::socket_base::wait_write, use_tuple);
    if (wait_error) fail(disconnect_reason(wait_error));  // after fail() it is operation_aborted: ignored
  }
}

bool Session::write_now() {
  std::array<asio::const_buffer, max_pieces> pieces;
  while (!outbox_.empty()) {
    std::size_t count = 0;
    std::size_t bytes = 0;
    outbox_.gather(
        [&](const char* data, std::size_t size) {
          pieces[count++] = asio::const_buffer(data, size);
          bytes += size;
        },
        pieces.size());
    const std::span<const asio::const_buffer> batch(pieces.data(), count);
    // The socket is non-blocking: one writev takes what the kernel accepts now, without the round trip
    // through the loop that an async_write costs.
    std::error_code error;
    const std::size_t written = socket_.write_some(batch, error);
    if (error == asio::error::would_block || error == asio::error::try_again) error.clear();
    count_sent(batch, written);
    outbox_.consume(written);
    if (error) {
      fail(disconnect_reason(error));
      return false;
    }
    if (written < bytes) return false;
  }
  return true;
}

void Session::count_sent(std::span<const asio::const_buffer> pieces, std::size_t written) noexcept {
  // Each piece ends a message (the first may be the rest of one): a fully written piece is a line out.
  for (const auto& piece : pieces) {
    if (written < piece.size()) return;
    written -= piece.size();
    ++stats_.lines_out;
  }
}

}  // namespace dschat::async_mode
