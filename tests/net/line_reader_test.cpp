#include "net/line_reader.hpp"

#include <doctest/doctest.h>

#include <asio/connect.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <string>
#include <string_view>

using asio::ip::tcp;
using dschat::FrameKind;
using dschat::LineReader;

namespace {

/// A connected loopback TCP pair, both ends blocking: `client` writes, `server` is read by a LineReader.
struct TcpPair {
  TcpPair() : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), client(io), server(io) {
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }

  void send(std::string_view data) { asio::write(client, asio::buffer(data.data(), data.size())); }

  asio::io_context io;
  tcp::acceptor acceptor;
  tcp::socket client;
  tcp::socket server;
};

}  // namespace

TEST_CASE("LineReader hands out lines one at a time, the last one without LF at end of stream") {
  TcpPair pair;
  LineReader reader(pair.server, 64);
  pair.send("first\nsecond\r\nthird");
  pair.client.shutdown(tcp::socket::shutdown_send);
  std::error_code error;

  auto line = reader.next(error);
  REQUIRE(line);
  CHECK(line->kind == FrameKind::line);
  CHECK(line->text == "first");
  CHECK(reader.has_ready());  // "second" came in the same read

  line = reader.next(error);
  REQUIRE(line);
  CHECK(line->text == "second");

  line = reader.next(error);
  REQUIRE(line);
  CHECK(line->text == "third");

  CHECK_FALSE(reader.next(error));
  CHECK_FALSE(error);  // a clean end of stream
  CHECK_FALSE(reader.next(error));
}

TEST_CASE("LineReader waits for the rest of a line split across writes") {
  TcpPair pair;
  LineReader reader(pair.server, 64);
  pair.send("hel");
  CHECK_FALSE(reader.has_ready());
  pair.send("lo\n");
  std::error_code error;
  const auto line = reader.next(error);
  REQUIRE(line);
  CHECK(line->text == "hello");
  CHECK_FALSE(reader.has_ready());
}

TEST_CASE("LineReader reports an overlong line once and goes on with the next") {
  TcpPair pair;
  LineReader reader(pair.server, 4);
  pair.send("123456789\nok\n");
  std::error_code error;
  auto line = reader.next(error);
  REQUIRE(line);
  CHECK(line->kind == FrameKind::too_long);
  line = reader.next(error);
  REQUIRE(line);
  CHECK(line->kind == FrameKind::line);
  CHECK(line->text == "ok");
}

TEST_CASE("LineReader reports a reset after the lines that came before it") {
  TcpPair pair;
  LineReader reader(pair.server, 64);
  pair.send("last words\n");
  pair.client.set_option(asio::socket_base::linger(true, 0));  // close() sends RST
  pair.client.close();
  std::error_code error;
  const auto line = reader.next(error);
  REQUIRE(line);
  CHECK(line->text == "last words");
  CHECK_FALSE(reader.next(error));
  CHECK(error == asio::error::connection_reset);
}
