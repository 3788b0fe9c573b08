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

ServerLink::ServerLink(asio::ip::tcp::socket socket, std::size_t max_line, std::optional<TlsEngine> tls)
    : socket_(std::move(socket)),
      wake_writer_(socket_.get_executor()),
      framer_(max_line),
      tls_(std::move(tls)) {}

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
  if (tls_) {
    try {
      tls_->shutdown();  // one close_notify, written if the socket takes it now
      if (tls_->wants_write()) {
        const std::string bytes = tls_->take_ciphertext();
        socket_.non_blocking(true, ignored);
        socket_.write_some(asio::buffer(bytes), ignored);
      }
    } catch (const std::exception&) {
      // Out of memory: closed without close_notify.
    }
  }
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
  if (tls_) {  // what came with the end of the handshake
    std::error_code error;
    if (!feed_tls({}, error)) {
      report_closed(error);
      co_return;
    }
  }
  for (;;) {
    std::error_code error;
    const std::size_t got = co_await socket_.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
    if (closed_) co_return;
    if (tls_) {
      if (error == asio::error::eof) {
        tls_->feed_eof();
        error.clear();
      }
      if (!error && feed_tls(std::string_view(buffer.data(), got), error)) continue;
      if (closed_) co_return;
      if (error == asio::error::eof) {
        framer_.finish([this](FrameKind kind, std::string_view line) { on_frame_(kind, line); });
      }
      report_closed(error);
      co_return;
    }
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

bool ServerLink::feed_tls(std::string_view ciphertext, std::error_code& error) {
  tls_->feed_ciphertext(ciphertext);
  std::array<char, 16 * 1024> plain{};
  for (;;) {
    const std::size_t n = tls_->read_plaintext(plain);
    if (n == 0) break;
    framer_.feed(std::string_view(plain.data(), n), [this](FrameKind kind, std::string_view line) {
      if (!closed_) on_frame_(kind, line);
      return !closed_;
    });
    if (closed_) return false;
  }
  if (tls_->wants_write()) wake_writer_.cancel();  // the writer sends it
  switch (tls_->state()) {
    case TlsState::closed:
      error = asio::error::eof;
      return false;
    case TlsState::truncated:
      tls_error_ = "the server closed the connection without TLS close_notify";
      error = asio::error::connection_aborted;
      return false;
    case TlsState::failed:
      tls_error_ = "TLS error: " + tls_->error();
      error = asio::error::connection_aborted;
      return false;
    case TlsState::handshaking:
    case TlsState::open:
      return true;
  }
  return true;
}

asio::awaitable<void> ServerLink::write_loop() {
  std::string chunk;
  while (!closed_) {
    if (tls_ && tls_->wants_write() && queue_.empty()) {
      const std::string bytes = tls_->take_ciphertext();
      std::error_code error;
      co_await asio::async_write(socket_, asio::buffer(bytes),
                                 asio::redirect_error(asio::use_awaitable, error));
      if (error) {
        report_closed(error);
        co_return;
      }
      continue;
    }
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
    if (tls_) {
      tls_->write_plaintext(chunk);
      chunk = tls_->take_ciphertext();  // with whatever the reader left for the writer
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
