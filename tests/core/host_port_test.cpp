#include "core/host_port.hpp"

#include <doctest/doctest.h>

#include <string>

using dschat::HostPort;
using dschat::parse_host_port;

namespace {

std::string reason(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_host_port(text, &error).has_value());
  return error;
}

}  // namespace

TEST_CASE("parse_host_port takes names, IPv4 and bracketed IPv6 with a port 1-65535") {
  CHECK(parse_host_port("127.0.0.1:8080") == HostPort{"127.0.0.1", 8080});
  CHECK(parse_host_port("broker.example-1:1") == HostPort{"broker.example-1", 1});
  CHECK(parse_host_port("[::1]:65535") == HostPort{"::1", 65535});
  CHECK(parse_host_port("[::ffff:127.0.0.1]:4222") == HostPort{"::ffff:127.0.0.1", 4222});
  CHECK(parse_host_port(std::string(253, 'a') + ":80").has_value());
}

TEST_CASE("parse_host_port says what is wrong") {
  CHECK(reason("127.0.0.1") == "no :PORT");
  CHECK(reason(":8001") == "no host");
  CHECK(reason("[]:80") == "no host");
  CHECK(reason("::1:80") == "an IPv6 address goes in brackets, [::1]:PORT");
  CHECK(reason("[::1:80") == "no ']' after the IPv6 address");
  CHECK(reason("[::1]80") == "no :PORT");
  CHECK(reason("[::1]") == "no :PORT");
  CHECK(reason("[zz::1]:80") == "bad IPv6 address");
  CHECK(reason("[1.2.3.4]:80") == "bad IPv6 address");
  CHECK(reason("bad_host:80") == "bad host name");
  CHECK(reason("a b:80") == "bad host name");
  CHECK(reason(std::string(254, 'a') + ":80") == "bad host name");
  for (const char* port : {"0", "65536", "", "-1", "+1", "80x", "000080", "99999999999"}) {
    CAPTURE(port);
    CHECK(reason(std::string("host:") + port) == "the port must be 1-65535");
  }
  CHECK(parse_host_port("host:80").has_value());  // no error asked for: nullopt alone on failure
  CHECK_FALSE(parse_host_port("host:0").has_value());
}
