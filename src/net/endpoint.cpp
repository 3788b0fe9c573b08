#include "net/endpoint.hpp"

#include <fmt/format.h>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <cctype>

#include "core/error.hpp"

namespace dschat {

std::string format_endpoint(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return fmt::format("{}:{}", asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string(),
                       endpoint.port());
  }
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

IpAddress ip_address(const asio::ip::tcp::endpoint& endpoint) noexcept {
  const auto address = endpoint.address();
  if (address.is_v4()) return IpAddress::v4(address.to_v4().to_bytes());
  return IpAddress::v6(address.to_v6().to_bytes());
}

std::string_view unbracket(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  host = unbracket(host);
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string describe(const std::error_code& error) {
  // Asio/strerror messages start with a capital ("Connection refused"); a lower-case start reads
  // better after "cannot connect to HOST:PORT: ".
  std::string text = error.message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string disconnect_reason(const std::error_code& error) {
  if (!error || error == asio::error::eof) return "eof";
  // A reset shows up as ECONNRESET on a read and often as EPIPE on a write: to the people in the room both
  // mean the same thing.
  if (error == asio::error::connection_reset || error == asio::error::broken_pipe ||
      error == asio::error::connection_aborted) {
    return "connection reset";
  }
  return describe(error);
}

std::vector<asio::ip::tcp::endpoint> resolve(std::string_view host, std::uint16_t port, bool passive) {
  host = unbracket(host);  // "[::1]", as the servers print it
  std::error_code error;
  const auto address = asio::ip::make_address(std::string(host), error);
  if (!error) return {asio::ip::tcp::endpoint(address, port)};

  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto flags = asio::ip::resolver_base::numeric_service;
  if (passive) flags |= asio::ip::resolver_base::passive;
  const auto results = resolver.resolve(std::string(host), std::to_string(port), flags, error);
  if (error) throw Error(fmt::format("cannot resolve {}: {}", host, describe(error)));
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& entry : results)
    endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) throw Error(fmt::format("cannot resolve {}: no addresses", host));
  return endpoints;
}

}  // namespace dschat
