#include "core/relay_url.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using dschat::parse_relay_url;
using dschat::relay_address;
using dschat::RelayUrl;

TEST_CASE("parse_relay_url reads host, port and room") {
  const auto url = parse_relay_url("nats://127.0.0.1:4222/lobby");
  REQUIRE(url.has_value());
  CHECK(*url == RelayUrl{"127.0.0.1", 4222, "lobby", {}, {}, {}});
  CHECK(relay_address(*url) == "nats://127.0.0.1:4222");
}

TEST_CASE("parse_relay_url reads user:pass@ and token@") {
  const auto with_user = parse_relay_url("nats://alice:s3cr:et@broker.example:4222/Room_1-a");
  REQUIRE(with_user.has_value());
  CHECK(with_user->host == "broker.example");
  CHECK(with_user->user == "alice");
  CHECK(with_user->pass == "s3cr:et");
  CHECK_FALSE(with_user->auth_token.has_value());
  CHECK(with_user->room == "Room_1-a");

  const auto with_token = parse_relay_url("nats://t0ken@localhost:1/r");
  REQUIRE(with_token.has_value());
  CHECK(with_token->auth_token == "t0ken");
  CHECK_FALSE(with_token->user.has_value());
  CHECK(relay_address(*with_token) == "nats://localhost:1");  // never the credentials
}

TEST_CASE("parse_relay_url reads a bracketed IPv6 address") {
  const auto url = parse_relay_url("nats://[::1]:65535/r");
  REQUIRE(url.has_value());
  CHECK(url->host == "::1");
  CHECK(url->port == 65535);
  CHECK(relay_address(*url) == "nats://[::1]:65535");
}

TEST_CASE("parse_relay_url refuses malformed URLs with a reason") {
  for (const std::string_view bad :
       {"",
        "nats:/h:1/r",
        "http://h:1/r",
        "nats://h:1",
        "nats://h/r",
        "nats://h:/r",
        "nats://h:0/r",
        "nats://h:65536/r",
        "nats://h:99999999999/r",
        "nats://h:-1/r",
        "nats://h:1x/r",
        "nats://:1/r",
        "nats://h:1/",
        "nats://h:1/r/",
        "nats://h:1/r?x",
        "nats://h:1/a b",
        "nats://h_x:1/r",
        "nats://@h:1/r",
        "nats://:p@h:1/r",
        "nats://u:@h:1/r",
        "nats://a b@h:1/r",
        "nats://[::1:1/r",
        "nats://[]:1/r",
        "nats://[::1]/r",
        "nats://[zz]:1/r",
        "nats://h:1/0123456789012345678901234567890123456789012345678901234567890123456789"}) {
    CAPTURE(bad);
    std::string error;
    CHECK_FALSE(parse_relay_url(bad, &error).has_value());
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("parse_relay_url refuses every truncation of a valid URL but the full one") {
  const std::string_view full = "nats://u:p@h:4222/room";
  for (std::size_t size = 0; size < full.size(); ++size) {
    CAPTURE(size);
    const auto url = parse_relay_url(full.substr(0, size));
    // Cut inside the room leaves a shorter valid room; everything else is refused.
    CHECK(url.has_value() == (size > full.find("/room") + 1));
  }
  CHECK(parse_relay_url(full).has_value());
}
