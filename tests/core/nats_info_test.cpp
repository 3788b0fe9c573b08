#include "core/nats_info.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using dschat::NatsInfo;
using dschat::parse_nats_info;
using namespace std::string_view_literals;

namespace {

// The JSON of the INFO nats-server 2.9.10 sent on connecting, byte for byte (loopback, `-p -1`).
constexpr std::string_view real =
    R"({"server_id":"NBIAVFQH73FP3KS2Q2FOMIGQA54HKA7TAGZJQXLOVJQGFQCQCDIJZVDJ",)"
    R"("server_name":"NBIAVFQH73FP3KS2Q2FOMIGQA54HKA7TAGZJQXLOVJQGFQCQCDIJZVDJ","version":"2.9.10",)"
    R"("proto":1,"go":"go1.19.8","host":"127.0.0.1","port":40269,"headers":true,"max_payload":1048576,)"
    R"("client_id":4,"client_ip":"127.0.0.1"})";

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

}  // namespace

TEST_CASE("parse_nats_info reads what a real server sends") {
  const auto info = parse_nats_info(real);
  REQUIRE(info.has_value());
  CHECK(*info == NatsInfo{"NBIAVFQH73FP3KS2Q2FOMIGQA54HKA7TAGZJQXLOVJQGFQCQCDIJZVDJ", 1048576, false, false});
}

TEST_CASE("parse_nats_info refuses every truncation of a valid object") {
  for (std::size_t size = 0; size < real.size(); ++size) {
    CAPTURE(size);
    CHECK_FALSE(parse_nats_info(real.substr(0, size)).has_value());
  }
}

TEST_CASE("parse_nats_info keeps the members it needs and skips the others") {
  const auto info = parse_nats_info(
      " {\"a\":{\"server_id\":\"inner\",\"b\":[1,-2.5e+3,true,false,null,\"]}\",{}]},"
      "\"auth_required\" : true ,\"tls_required\":false,\"max_payload\":18446744073709551615,"
      "\"server_id\":\"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud800\"}\r\n");
  REQUIRE(info.has_value());
  CHECK(info->server_id == "x\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xef\xbf\xbd");
  CHECK(info->max_payload == 18446744073709551615ULL);
  CHECK(info->auth_required);
  CHECK_FALSE(info->tls_required);
  CHECK(*parse_nats_info("{}") == NatsInfo{});
  CHECK(parse_nats_info(R"({"server_id":"a","server_id":"b"})")->server_id == "b");
}

TEST_CASE("parse_nats_info skips nesting up to depth 32 and refuses deeper") {
  CHECK(parse_nats_info("{\"a\":" + nested(32) + "}").has_value());
  CHECK_FALSE(parse_nats_info("{\"a\":" + nested(34) + "}").has_value());
  CHECK_FALSE(parse_nats_info("{\"a\":" + std::string(100000, '[')).has_value());
}

TEST_CASE("parse_nats_info refuses what is not one object, or a kept member of the wrong type") {
  for (const auto bad :
       {""sv, "[]"sv, "{"sv, "{}{}"sv, "{} x"sv, "{\"a\"}"sv, "{\"a\":}"sv, "{\"a\":1,}"sv, "{a:1}"sv,
        "{\"a\":tru}"sv, "{\"a\":\"\\x\"}"sv, "{\"a\":\"\\u12g4\"}"sv, "{\"a\":\"tab\there\"}"sv,
        "{\"max_payload\":-1}"sv, "{\"max_payload\":1.5}"sv, "{\"max_payload\":18446744073709551616}"sv,
        "{\"max_payload\":\"1\"}"sv, "{\"auth_required\":1}"sv, "{\"server_id\":7}"sv}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_nats_info(bad).has_value());
  }
}
