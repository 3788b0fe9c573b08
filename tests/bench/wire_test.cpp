#include "modes/bench/wire.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "all_tokens.hpp"

namespace dschat::bench {

namespace {

using dschat::test::all_tokens;

const Token token{'b', 3, 7, 123456789};

}  // namespace

TEST_CASE("line servers get the payload and LF, nothing before it") {
  const Wire wire{BenchProto::line, Fanout::others};
  CHECK(wire.greeting(0).empty());
  std::string out;
  wire.append(out, 3, token, 40);
  CHECK(out.size() == 41);
  CHECK(out.back() == '\n');
  CHECK(all_tokens(out) == std::vector{token});
  CHECK(wire.joined_marker().empty());
  CHECK(wire.server_ping().empty());
}

TEST_CASE("NATS: one subject without echo for broadcast, one per client with echo for echo") {
  const Wire broadcast{BenchProto::nats, Fanout::others};
  CHECK(broadcast.greeting(4).starts_with("CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,"));
  CHECK(broadcast.greeting(4).ends_with("}\r\nSUB dschat.bench 1\r\nPING\r\n"));
  std::string out;
  broadcast.append(out, 3, token, 40);
  CHECK(out == "PUB dschat.bench 40\r\n" + out.substr(21, 40) + "\r\n");
  CHECK(all_tokens(out) == std::vector{token});

  const Wire echo{BenchProto::nats, Fanout::self};
  CHECK(echo.greeting(4).starts_with("CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":true,"));
  CHECK(echo.greeting(4).ends_with("}\r\nSUB dschat.bench.4 1\r\nPING\r\n"));
  out.clear();
  echo.append(out, 4, token, 40);
  CHECK(out.starts_with("PUB dschat.bench.4 40\r\n"));
  CHECK(echo.joined_marker() == "PONG\r\n");
  CHECK(echo.server_ping() == "PING\r");
  CHECK(echo.ping_answer() == "PONG\r\n");
}

TEST_CASE("Redis: RESP3, PUBLISH to one channel or ECHO, as bulk strings") {
  const Wire broadcast{BenchProto::redis, Fanout::others};
  CHECK(broadcast.greeting(0) == "HELLO 3\r\nSUBSCRIBE dschat.bench\r\n");
  CHECK(broadcast.hears_itself());
  std::string out;
  broadcast.append(out, 3, token, 40);
  CHECK(out.starts_with("*3\r\n$7\r\nPUBLISH\r\n$12\r\ndschat.bench\r\n$40\r\n"));
  CHECK(out.ends_with("\r\n"));
  CHECK(out.size() == 41 + 40 + 2);  // the header above, the payload, CRLF
  CHECK(all_tokens(out) == std::vector{token});

  const Wire echo{BenchProto::redis, Fanout::self};
  CHECK_FALSE(echo.hears_itself());
  out.clear();
  echo.append(out, 3, token, 40);
  CHECK(out.starts_with("*2\r\n$4\r\nECHO\r\n$40\r\n"));
}

TEST_CASE("a joined marker is found however the stream is split") {
  const std::string stream = "INFO {\"server_id\":\"x\"}\r\nPONG\r\nMSG a 1 2\r\nhi\r\n";
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      MarkerScan scan;
      const bool first = scan.feed("PONG\r\n", std::string_view(stream).substr(0, a));
      const bool second = scan.feed("PONG\r\n", std::string_view(stream).substr(a, b - a));
      const bool third = scan.feed("PONG\r\n", std::string_view(stream).substr(b));
      const std::size_t end = stream.find("PONG\r\n") + 6;
      CHECK(first == (a >= end));
      CHECK(second == (b >= end));
      CHECK(third);
      CHECK(scan.found());
    }
  }
  MarkerScan never;
  CHECK_FALSE(never.feed("PONG\r\n", "PING\r\nPON"));
  CHECK_FALSE(never.feed("PONG\r\n", "G \r\n"));
}

TEST_CASE("an empty marker is any byte") {
  MarkerScan scan;
  CHECK_FALSE(scan.feed({}, {}));
  CHECK(scan.feed({}, "*"));
  CHECK(scan.feed({}, {}));
}

}  // namespace dschat::bench
