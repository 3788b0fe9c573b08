#include "net/connector.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "net/endpoint.hpp"

namespace dschat {

asio::ip::tcp::socket connect_to(asio::io_context& io, const std::string& host, std::uint16_t port) {
  std::error_code error;
  for (const auto& endpoint : resolve(host, port, false)) {
    asio::ip::tcp::socket socket(io);
    socket.connect(endpoint, error);
    if (error) continue;
    socket.set_option(asio::ip::tcp::no_delay(true), error);
    return socket;
  }
  throw Error(fmt::format("cannot connect to {}: {}", format_host_port(host, port), describe(error)));
}

}  // namespace dschat
