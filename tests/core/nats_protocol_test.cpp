#include "core/nats_protocol.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using dschat::append_nats_connect;
using dschat::append_nats_ping;
using dschat::append_nats_pong;
using dschat::append_nats_pub;
using dschat::append_nats_sub;
using dschat::append_nats_unsub;
using dschat::NatsConnectOptions;
using dschat::NatsDecoder;
using dschat::NatsEvent;
using dschat::NatsInfo;
using dschat::NatsMsg;
using Kind = dschat::NatsEvent::Kind;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

using Events = std::vector<NatsEvent>;

struct Decoded {
  Events events;
  std::string error;  // empty when the decoder did not fail
};

Decoded decode(const std::vector<std::string_view>& chunks, std::size_t max_payload) {
  NatsDecoder decoder(max_payload);
  Decoded out;
  for (const auto chunk : chunks)
    decoder.feed(chunk, out.events);
  out.error = decoder.error();
  return out;
}

/// Checks that stream decodes to events (and error, if any) however it is cut: whole, one byte at a time,
/// and in two pieces at every position; streams short enough are also cut in three at every pair.
void check_every_split(std::string_view stream, const Events& events, std::string_view error = {},
                       std::size_t max_payload = dschat::nats_default_max_payload) {
  const auto check = [&](const std::vector<std::string_view>& chunks) {
    const Decoded out = decode(chunks, max_payload);
    CHECK(out.events == events);
    CHECK(out.error == error);
  };
  check({stream});
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(stream.substr(i, 1));
  check(bytes);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    check({stream.substr(0, i), stream.substr(i)});
    if (stream.size() > 200) continue;
    for (std::size_t j = i; j <= stream.size(); ++j)
      check({stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)});
  }
}

NatsEvent simple(Kind kind) {
  NatsEvent event;
  event.kind = kind;
  return event;
}

NatsEvent msg(std::string subject, std::uint64_t sid, std::string reply_to, std::string payload) {
  NatsEvent event;
  event.kind = Kind::msg;
  event.msg = NatsMsg{std::move(subject), sid, std::move(reply_to), std::move(payload)};
  return event;
}

NatsEvent info(std::string server_id, std::uint64_t max_payload, bool auth, bool tls = false) {
  NatsEvent event;
  event.kind = Kind::info;
  event.info = NatsInfo{std::move(server_id), max_payload, auth, tls};
  return event;
}

NatsEvent err(std::string text) {
  NatsEvent event;
  event.kind = Kind::err;
  event.text = std::move(text);
  return event;
}

// What nats-server 2.9.10 sent on connecting, byte for byte (loopback, `-p -1`).
constexpr std::string_view real_info =
    R"(INFO {"server_id":"NBIAVFQH73FP3KS2Q2FOMIGQA54HKA7TAGZJQXLOVJQGFQCQCDIJZVDJ",)"
    R"("server_name":"NBIAVFQH73FP3KS2Q2FOMIGQA54HKA7TAGZJQXLOVJQGFQCQCDIJZVDJ","version":"2.9.10",)"
    R"("proto":1,"go":"go1.19.8","host":"127.0.0.1","port":40269,"headers":true,"max_payload":1048576,)"
    R"("client_id":4,"client_ip":"127.0.0.1"} )"
    "\r\n";

}  // namespace

TEST_CASE("append_nats_connect writes the exact CONNECT line") {
  std::string out;
  append_nats_connect(out, NatsConnectOptions{"dschat a", "0.9.0", {}, {}, {}});
  CHECK(out == R"(CONNECT {"verbose":false,"pedantic":false,"echo":false,"name":"dschat a","lang":"c++",)"
               R"("version":"0.9.0"})"
               "\r\n");
}

TEST_CASE("append_nats_connect adds credentials and escapes JSON strings") {
  std::string out;
  append_nats_connect(out, NatsConnectOptions{"n\"\\", "1", "us\ter", "p\"w\x01\x7f\xc3\xa9", {}});
  CHECK(out == R"(CONNECT {"verbose":false,"pedantic":false,"echo":false,"name":"n\"\\","lang":"c++",)"
               R"("version":"1","user":"us\u0009er","pass":"p\"w\u0001\u007fé"})"
               "\r\n");
  out.clear();
  append_nats_connect(out, NatsConnectOptions{"n", "1", {}, {}, "s3cr\nt"});
  CHECK(out == R"(CONNECT {"verbose":false,"pedantic":false,"echo":false,"name":"n","lang":"c++",)"
               R"("version":"1","auth_token":"s3cr\u000at"})"
               "\r\n");
}

TEST_CASE("append_nats_pub, sub, unsub, ping and pong write the exact wire bytes") {
  std::string out;
  append_nats_pub(out, "dschat.room.lobby", "DSC1 chat a\r\nx");
  CHECK(out == "PUB dschat.room.lobby 14\r\nDSC1 chat a\r\nx\r\n");
  out.clear();
  append_nats_pub(out, "s", "");
  CHECK(out == "PUB s 0\r\n\r\n");
  out.clear();
  append_nats_sub(out, "dschat.room.lobby", 1);
  append_nats_unsub(out, 1);
  append_nats_unsub(out, 18446744073709551615ULL, 5);
  append_nats_ping(out);
  append_nats_pong(out);
  CHECK(out == "SUB dschat.room.lobby 1\r\nUNSUB 1\r\nUNSUB 18446744073709551615 5\r\nPING\r\nPONG\r\n");
}

TEST_CASE("append_nats_pub appends without allocating when capacity suffices") {
  std::string out;
  out.reserve(256);
  const char* const buffer = out.data();
  append_nats_pub(out, "dschat.room.lobby", "hello");
  append_nats_sub(out, "dschat.room.lobby", 7);
  append_nats_ping(out);
  CHECK(out.data() == buffer);
}

TEST_CASE("append_nats_pub and append_nats_sub refuse an invalid subject") {
  std::string out;
  for (const auto bad : {""sv, "a b"sv, "a\tb"sv, "a\r\n"sv, ".a"sv, "a."sv, "a..b"sv, "a\x7f"sv}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(append_nats_pub(out, bad, "x"), std::invalid_argument);
    CHECK_THROWS_AS(append_nats_sub(out, bad, 1), std::invalid_argument);
  }
  CHECK(out.empty());
  CHECK(dschat::is_valid_nats_subject("dschat.room.a-b_c"));
  CHECK(dschat::is_valid_nats_subject(std::string(256, 'x')));
  CHECK_FALSE(dschat::is_valid_nats_subject(std::string(257, 'x')));
}

TEST_CASE("NatsDecoder::feed decodes PING, PONG, +OK and -ERR, case-insensitively") {
  check_every_split("PING\r\nPONG\r\n+OK\r\nping\r\npOnG\r\n+ok\r\n",
                    {simple(Kind::ping), simple(Kind::pong), simple(Kind::ok), simple(Kind::ping),
                     simple(Kind::pong), simple(Kind::ok)});
  check_every_split("-ERR 'Authorization Violation'\r\n-err\t'Unknown Protocol Operation'\r\n",
                    {err("Authorization Violation"), err("Unknown Protocol Operation")});
  check_every_split("-ERR no quotes here\r\n-ERR ''\r\n", {err("no quotes here"), err("")});
}

TEST_CASE("NatsDecoder::feed accepts a control line ended by a bare LF and extra blanks") {
  check_every_split("PING\n  PONG \t\r\n", {simple(Kind::ping), simple(Kind::pong)});
}

TEST_CASE("NatsDecoder::feed decodes INFO from a real server") {
  check_every_split(real_info,
                    {info("NBIAVFQH73FP3KS2Q2FOMIGQA54HKA7TAGZJQXLOVJQGFQCQCDIJZVDJ", 1048576, false)});
}

TEST_CASE("NatsDecoder::feed reads the INFO fields it needs and skips the others") {
  check_every_split(
      "info\t{ \"nested\": {\"a\": [1, {\"b\": \"}\"}], \"server_id\": \"fake\"}, \"x\": null,"
      " \"f\": -1.5e3, \"server_id\": \"id\\u00e9\\\"\\n\", \"auth_required\": true,"
      " \"tls_required\": true, \"max_payload\": 65536 }\r\n",
      {info("id\xc3\xa9\"\n", 65536, true, true)});
  check_every_split("INFO {}\r\n", {info("", 0, false)});
}

TEST_CASE("NatsDecoder::feed fails on a malformed INFO") {
  for (const auto bad : {"INFO\r\n"sv, "INFO {\r\n"sv, "INFO {\"a\":}\r\n"sv, "INFO {\"a\" 1}\r\n"sv,
                         "INFO {\"max_payload\":-1}\r\n"sv, "INFO {\"max_payload\":\"1\"}\r\n"sv,
                         "INFO {\"auth_required\":1}\r\n"sv, "INFO {} x\r\n"sv, "INFO {\"a\":\"\\q\"}\r\n"sv,
                         "INFO [1]\r\n"sv}) {
    CAPTURE(bad);
    check_every_split(bad, {}, "malformed INFO: not a JSON object");
  }
}

TEST_CASE("NatsDecoder::feed decodes MSG with and without reply-to") {
  check_every_split("MSG dschat.room.lobby 1 5\r\nhello\r\nMSG a.b 22 _INBOX.x 3\r\nbye\r\n",
                    {msg("dschat.room.lobby", 1, "", "hello"), msg("a.b", 22, "_INBOX.x", "bye")});
  check_every_split("msg\ta  7\t\t2\r\nhi\r\n", {msg("a", 7, "", "hi")});
  // What nats-server 2.9.10 sent for `PUB a.b r.x 4` with payload "a\r\nb" and for `PUB a.b 0`.
  check_every_split("MSG a.b 1 r.x 4\r\na\r\nb\r\nMSG a.b 1 0\r\n\r\n",
                    {msg("a.b", 1, "r.x", "a\r\nb"), msg("a.b", 1, "", "")});
}

TEST_CASE("NatsDecoder::feed takes a payload by its byte count, CR, LF and any byte included") {
  const std::string payload = "a\r\nMSG x 1 2\r\n\0\xff\n"s;
  std::string stream = "MSG s 1 " + std::to_string(payload.size()) + "\r\n" + payload + "\r\nPING\r\n";
  check_every_split(stream, {msg("s", 1, "", payload), simple(Kind::ping)});
}

TEST_CASE("NatsDecoder::feed decodes a zero-length payload") {
  check_every_split("MSG s 1 0\r\n\r\nMSG s 1 r 0\r\n\r\n", {msg("s", 1, "", ""), msg("s", 1, "r", "")});
}

TEST_CASE("NatsDecoder::feed accepts a payload of max_payload bytes and refuses one more") {
  check_every_split("MSG s 1 4\r\nabcd\r\n", {msg("s", 1, "", "abcd")}, {}, 4);
  check_every_split("PONG\r\nMSG s 1 5\r\nabcde\r\n", {simple(Kind::pong)},
                    "MSG payload of 5 bytes is over the limit of 4", 4);
}

TEST_CASE("NatsDecoder::feed accepts a control line of 4096 bytes and refuses one of 4097") {
  const std::string at_limit = "-ERR " + std::string(dschat::nats_max_control_line - 5, 'x');
  NatsDecoder decoder;
  Events events;
  CHECK(decoder.feed(at_limit + "\r\n", events));
  CHECK(events == Events{err(at_limit.substr(5))});

  const std::string over = at_limit + "y";
  NatsDecoder too_long;
  events.clear();
  CHECK_FALSE(too_long.feed(over + "\r\n", events));
  CHECK(too_long.error() == "control line longer than 4096 bytes");
  CHECK(events.empty());
}

TEST_CASE("NatsDecoder::feed fails on an endless line before buffering more than the limit") {
  NatsDecoder decoder;
  Events events;
  const std::string chunk(1000, 'x');
  bool ok = true;
  for (int i = 0; i < 100 && ok; ++i) {
    ok = decoder.feed(chunk, events);
    CHECK(decoder.buffered() <= dschat::nats_max_control_line + 1);
  }
  CHECK_FALSE(ok);
  CHECK(decoder.error() == "control line longer than 4096 bytes");
}

TEST_CASE("NatsDecoder::feed reports protocol errors and stays failed") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"\r\n", "empty control line"},
      {"PING x\r\n", "unexpected arguments after PING"},
      {"+OK ok\r\n", "unexpected arguments after +OK"},
      {"BOGUS 1 2\r\n", "unknown protocol verb 'BOGUS'"},
      {"HMSG s 1 10 12\r\nNATS/1.0\r\n\r\nhi\r\n", "HMSG received, but headers were never asked for"},
      {"MSG s 1\r\n", "malformed MSG: expected 3 or 4 arguments"},
      {"MSG s 1 r x 2\r\n", "malformed MSG: expected 3 or 4 arguments"},
      {"MSG s one 2\r\n", "malformed MSG: sid is not a number"},
      {"MSG s 1 -2\r\n", "malformed MSG: byte count is not a number"},
      {"MSG s 1 99999999999999999999999\r\n", "malformed MSG: byte count is not a number"},
      {"MSG s 1 2\r\nabc\r\n", "MSG payload not followed by CR LF"},
      {"MSG s 1 2\r\nab\n", "MSG payload not followed by CR LF"},
  };
  for (const auto& item : cases) {
    const std::string_view stream = item.first;  // not a structured binding: CAPTURE takes it in a lambda
    CAPTURE(stream);
    const std::string then_more = std::string(stream) + "PING\r\n";
    check_every_split(then_more, {}, item.second);
  }
}

TEST_CASE("NatsDecoder::feed keeps the events decoded before an error") {
  NatsDecoder decoder;
  Events events;
  CHECK_FALSE(decoder.feed("PING\r\nMSG s 1 1\r\nx\r\nNOPE\r\nPONG\r\n", events));
  CHECK(events == Events{simple(Kind::ping), msg("s", 1, "", "x")});
  CHECK(decoder.failed());
  CHECK_FALSE(decoder.feed("PING\r\n", events));
  CHECK(events.size() == 2);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("NatsDecoder::feed decodes what the encoder wrote for PUB as the server relays it") {
  // The server turns `PUB s n` into `MSG s sid n` with the same payload bytes.
  std::string published;
  append_nats_pub(published, "dschat.room.x", "DSC1 chat b 1 1 1 alice a\rb");
  const std::string_view after_verb = std::string_view(published).substr(4 + 14);  // "PUB dschat.room.x "
  const std::string stream = "MSG dschat.room.x 9 " + std::string(after_verb);
  check_every_split(stream, {msg("dschat.room.x", 9, "", "DSC1 chat b 1 1 1 alice a\rb")});
}
