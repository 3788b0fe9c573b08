#include "net/listener.hpp"

#include <fmt/format.h>

#include <asio/ip/v6_only.hpp>
#include <cstdio>

#include "core/error.hpp"
#include "net/endpoint.hpp"

namespace dschat {

asio::ip::tcp::acceptor listen_on(asio::io_context& io, const std::string& host, std::uint16_t port) {
  std::error_code error;
  for (const auto& endpoint : resolve(host, port, true)) {
    asio::ip::tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol(), error);
    if (error) continue;
    acceptor.set_option(asio::socket_base::reuse_address(true), error);
    if (endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(false), error);
    acceptor.bind(endpoint, error);
    if (error) continue;
    acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) continue;
    return acceptor;
  }
  throw Error(fmt::format("cannot listen on {}: {}", format_host_port(host, port), describe(error)));
}

void announce_listening(const asio::ip::tcp::acceptor& acceptor) {
  std::fputs(fmt::format("listening on {}\n", format_endpoint(acceptor.local_endpoint())).c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace dschat
