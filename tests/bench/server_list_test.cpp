#include "modes/bench/server_list.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/error.hpp"

using dschat::UsageError;
using dschat::bench::BenchServer;
using dschat::bench::max_bench_servers;
using dschat::bench::parse_server_list;

TEST_CASE("parse_server_list takes HOST:PORT entries in order") {
  CHECK(parse_server_list("127.0.0.1:8001") == std::vector<BenchServer>{{"127.0.0.1", 8001}});
  CHECK(parse_server_list("127.0.0.1:8001,localhost:8002,[::1]:65535") ==
        std::vector<BenchServer>{{"127.0.0.1", 8001}, {"localhost", 8002}, {"::1", 65535}});
  CHECK(parse_server_list("a:1,a:1") == std::vector<BenchServer>{{"a", 1}, {"a", 1}});  // twice is allowed
}

TEST_CASE("parse_server_list refuses malformed lists with a one-line reason") {
  const auto reason = [](const std::string& text) {
    try {
      parse_server_list(text);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  for (const char* text : {"", ",", "127.0.0.1:8001,", ",127.0.0.1:8001", "a:1,,b:2"}) {
    CAPTURE(text);
    CHECK(reason(text) == "--connect: empty server in the list (HOST:PORT, comma-separated)");
  }
  CHECK(reason("127.0.0.1") == "--connect: bad server '127.0.0.1': no :PORT (HOST:PORT, comma-separated)");
  CHECK(reason(":8001") == "--connect: bad server ':8001': no host (HOST:PORT, comma-separated)");
  for (const char* port : {"0", "65536", "-1", "+1", "80x", "", " 80", "99999999999999999999"}) {
    CAPTURE(port);
    const std::string entry = std::string("h:") + port;
    CHECK(reason(entry) ==
          "--connect: bad server '" + entry + "': the port must be 1-65535 (HOST:PORT, comma-separated)");
  }
  CHECK(reason("::1:80").find("an IPv6 address goes in brackets") != std::string::npos);
  CHECK(reason("[::1:80").find("no ']'") != std::string::npos);
  CHECK(reason("[::1]80").find("no :PORT") != std::string::npos);
  CHECK(reason("[]:80").find("no host") != std::string::npos);
  CHECK(reason("a:1,b\n:2") == "--connect: a control character in the server list");
  // Every reason is one line.
  for (const char* text : {"", "x", "x:0", "[::1", "a:1,b\n:2"})
    CHECK(reason(text).find('\n') == std::string::npos);
}

TEST_CASE("parse_server_list takes at most max_bench_servers") {
  std::string list;
  for (std::size_t i = 0; i < max_bench_servers; ++i)
    list += (i == 0 ? "" : ",") + std::string("h:") + std::to_string(i + 1);
  CHECK(parse_server_list(list).size() == max_bench_servers);
  CHECK_THROWS_AS(parse_server_list(list + ",h:9"), UsageError);
}
