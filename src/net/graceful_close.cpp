#include "net/graceful_close.hpp"

#include <poll.h>

#include <array>

namespace dschat {

void close_gracefully(asio::ip::tcp::socket& socket, std::chrono::milliseconds linger) noexcept {
  std::error_code error;
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, error);
  const auto deadline = std::chrono::steady_clock::now() + linger;
  std::array<char, 4096> sink{};
  while (!error) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd descriptor{socket.native_handle(), POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) break;
    socket.read_some(asio::buffer(sink), error);  // EOF or reset ends the loop through error
  }
  socket.close(error);
}

}  // namespace dschat
