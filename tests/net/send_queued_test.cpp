#include "net/send_queued.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <asio/error.hpp>
#include <string>
#include <vector>

#include "core/message.hpp"
#include "net/endpoint.hpp"

using dschat::make_message;
using dschat::Outbox;
using dschat::send_queued;
using dschat::SendResult;

namespace {

/// A connected pair of stream sockets; the sending end optionally with a tiny send buffer.
struct SocketPair {
  explicit SocketPair(bool tiny_buffer = false) {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds.data()) == 0);
    if (tiny_buffer) {
      const int size = 1;  // the kernel rounds it up to its minimum, a few KiB
      REQUIRE(::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == 0);
    }
    REQUIRE(::fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);  // drain() reads what is there, never waits
  }
  ~SocketPair() {
    for (const int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  /// Everything the receiving end holds now.
  std::string drain() const {
    std::string got;
    std::array<char, 65536> buffer;
    for (ssize_t n; (n = ::read(fds[1], buffer.data(), buffer.size())) > 0;)
      got.append(buffer.data(), static_cast<std::size_t>(n));
    return got;
  }

  std::array<int, 2> fds{-1, -1};
};

/// A 100-byte line (99 characters and LF) that says which one it is.
std::string line(std::size_t i) {
  std::string text = "line " + std::to_string(i) + " ";
  text.resize(99, '.');
  return text;
}

}  // namespace

TEST_CASE("send_queued sends everything a roomy socket takes") {
  SocketPair pair;
  Outbox box(1 << 20);
  REQUIRE(box.push(make_message("one")));
  REQUIRE(box.push(make_message("two")));
  REQUIRE(box.push(make_message("three")));
  std::array<iovec, 16> pieces;
  const SendResult result = send_queued(pair.fds[0], box, pieces);
  CHECK(result.drained());
  CHECK_FALSE(result.error);
  CHECK(result.bytes == 14);
  CHECK(result.messages == 3);
  CHECK(box.empty());
  CHECK(pair.drain() == "one\ntwo\nthree\n");
}

TEST_CASE("send_queued gathers more messages than it has pieces for, in several writes") {
  SocketPair pair;
  Outbox box(1 << 20);
  std::string want;
  for (std::size_t i = 0; i < 10; ++i) {
    REQUIRE(box.push(make_message(line(i))));
    want += line(i) + '\n';
  }
  std::array<iovec, 3> pieces;
  const SendResult result = send_queued(pair.fds[0], box, pieces);
  CHECK(result.drained());
  CHECK(result.messages == 10);
  CHECK(pair.drain() == want);
}

TEST_CASE("send_queued on a full socket: whole lines counted, EAGAIN is not an error") {
  SocketPair pair(true);
  Outbox box(1 << 20);
  const std::size_t count = 2000;  // 200 KB: far more than the tiny send buffer holds
  std::string want;
  for (std::size_t i = 0; i < count; ++i) {
    REQUIRE(box.push(make_message(line(i))));
    want += line(i) + '\n';
  }
  std::array<iovec, 64> pieces;
  std::string got;
  std::size_t messages = 0;
  std::size_t partial_writes = 0;
  for (std::size_t round = 0; !box.empty(); ++round) {
    REQUIRE(round < 100000);
    const std::size_t before = got.size();
    const SendResult result = send_queued(pair.fds[0], box, pieces);
    CHECK_FALSE(result.error);
    if (!result.drained()) {
      CHECK(result.full);
      ++partial_writes;
      // A full socket takes nothing more at once: asking again is no error either, and sends nothing.
      const SendResult again = send_queued(pair.fds[0], box, pieces);
      CHECK(again.full);
      CHECK_FALSE(again.error);
      CHECK(again.bytes == 0);
      CHECK(again.messages == 0);
    }
    got += pair.drain();
    CHECK(got.size() - before == result.bytes);
    messages += result.messages;
    // Only lines written to their end count, however the kernel cut the write.
    CHECK(messages == got.size() / 100);
  }
  CHECK(partial_writes > 0);
  CHECK(messages == count);
  CHECK(got == want);
}

TEST_CASE("send_queued reports a closed peer as an error, a reset to the room") {
  SocketPair pair;
  ::close(pair.fds[1]);
  pair.fds[1] = -1;
  Outbox box(1 << 20);
  REQUIRE(box.push(make_message("nobody reads this")));
  std::array<iovec, 4> pieces;
  const SendResult result = send_queued(pair.fds[0], box, pieces);  // MSG_NOSIGNAL: no SIGPIPE
  CHECK_FALSE(result.drained());
  CHECK(result.error == asio::error::broken_pipe);
  CHECK(result.messages == 0);
  CHECK(dschat::disconnect_reason(result.error) == "connection reset");
}

TEST_CASE("send_queued writes WebSocket frames as their headers and the shared lines, in order") {
  SocketPair pair(true);
  const auto shared = dschat::make_message(std::string(300, 'a') + "\nb", "");  // two lines: 300 and 1 bytes
  dschat::FrameOutbox box(1 << 20);
  std::string want;
  for (std::size_t i = 0; i < 200; ++i) {  // 60 KB: more than the tiny socket buffer takes at once
    dschat::PrefixedSlice first;
    first.text = shared;
    first.size = 300;
    first.prefix = {'\x81', 126, 0x01, 0x2c};  // 300 in the 16-bit length
    first.prefix_size = 4;
    dschat::PrefixedSlice second;
    second.text = shared;
    second.begin = 301;
    second.size = 1;
    second.prefix = {'\x81', 1};
    second.prefix_size = 2;
    REQUIRE(box.push(first));
    REQUIRE(box.push(second));
    want += std::string("\x81\x7e\x01\x2c") + std::string(300, 'a') + "\x81\x01" + "b";
  }
  std::array<iovec, 5> pieces;  // an odd number: writes end between a header and its line
  std::string got;
  std::size_t frames = 0;
  for (int round = 0; round < 1000 && !box.empty(); ++round) {
    const SendResult result = send_queued(pair.fds[0], box, pieces);
    REQUIRE_FALSE(result.error);
    frames += result.messages;
    got += pair.drain();
  }
  got += pair.drain();
  CHECK(box.empty());
  CHECK(frames == 400);
  CHECK(got == want);
}

TEST_CASE("messages_sent counts the pieces written to their end") {
  std::string a = "tail\n";
  std::string b = "whole line\n";
  const std::array<iovec, 2> pieces{iovec{a.data(), a.size()}, iovec{b.data(), b.size()}};
  CHECK(dschat::messages_sent(pieces, 0) == 0);
  CHECK(dschat::messages_sent(pieces, 4) == 0);
  CHECK(dschat::messages_sent(pieces, 5) == 1);
  CHECK(dschat::messages_sent(pieces, 15) == 1);
  CHECK(dschat::messages_sent(pieces, 16) == 2);
}

TEST_CASE("disconnect_reason") {
  CHECK(dschat::disconnect_reason({}) == "eof");
  CHECK(dschat::disconnect_reason(asio::error::eof) == "eof");
  CHECK(dschat::disconnect_reason(asio::error::connection_reset) == "connection reset");
  CHECK(dschat::disconnect_reason(asio::error::connection_aborted) == "connection reset");
  CHECK(dschat::disconnect_reason(asio::error::timed_out) == "connection timed out");
}

TEST_CASE("hosts in brackets, as the servers print them, mean the address inside") {
  CHECK(dschat::unbracket("[::1]") == "::1");
  CHECK(dschat::unbracket("::1") == "::1");
  CHECK(dschat::unbracket("127.0.0.1") == "127.0.0.1");
  CHECK(dschat::unbracket("[") == "[");
  CHECK(dschat::format_host_port("[::1]", 8888) == "[::1]:8888");
  CHECK(dschat::format_host_port("::1", 8888) == "[::1]:8888");
  const auto endpoints = dschat::resolve("[::1]", 8888, true);
  REQUIRE(endpoints.size() == 1);
  CHECK(endpoints.front().address().to_string() == "::1");
}
