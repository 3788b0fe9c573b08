#include "core/relay_envelope.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <string_view>

using dschat::encode_envelope;
using dschat::Envelope;
using dschat::parse_envelope;
using dschat::RosterEntry;
using Kind = dschat::Envelope::Kind;
using namespace std::string_view_literals;

namespace {

Envelope header(Kind kind, std::uint64_t seq = 1042) {
  Envelope envelope;
  envelope.kind = kind;
  envelope.node = "b";
  envelope.epoch = 0x9f2c61d04a7e13b8;
  envelope.seq = seq;
  envelope.clock = 1733541234567;
  return envelope;
}

Envelope member(Kind kind, std::uint64_t id, std::string name, std::string text = {}) {
  Envelope envelope = header(kind);
  envelope.id = id;
  envelope.name = std::move(name);
  envelope.text = std::move(text);
  return envelope;
}

/// Checks that envelope is written as line, and that line parses back to envelope.
void check_wire(const Envelope& envelope, std::string_view line) {
  CHECK(encode_envelope(envelope) == line);
  std::string error;
  const auto parsed = parse_envelope(line, &error);
  CHECK(error.empty());
  REQUIRE(parsed.has_value());
  CHECK(*parsed == envelope);
}

/// Checks that line is rejected for reason.
void check_rejected(std::string_view line, std::string_view reason) {
  CAPTURE(line);
  std::string error;
  CHECK_FALSE(parse_envelope(line, &error).has_value());
  CHECK(error == reason);
}

constexpr std::string_view head = "DSC1 chat b 9f2c61d04a7e13b8 1042 1733541234567 ";

}  // namespace

TEST_CASE("encode_envelope and parse_envelope: the wire form of every kind") {
  check_wire(member(Kind::chat, 7, "alice", "hello everyone"),
             "DSC1 chat b 9f2c61d04a7e13b8 1042 1733541234567 7 alice hello everyone");
  check_wire(member(Kind::me, 7, "alice", "waves"),
             "DSC1 me b 9f2c61d04a7e13b8 1042 1733541234567 7 alice waves");
  check_wire(member(Kind::join, 7, "guest-7@b"),
             "DSC1 join b 9f2c61d04a7e13b8 1042 1733541234567 7 guest-7@b");
  Envelope nick = member(Kind::nick, 7, "guest-7@b");
  nick.new_name = "carol";
  check_wire(nick, "DSC1 nick b 9f2c61d04a7e13b8 1042 1733541234567 7 guest-7@b carol");
  check_wire(member(Kind::leave, 7, "carol", "connection reset"),
             "DSC1 leave b 9f2c61d04a7e13b8 1042 1733541234567 7 carol connection reset");
  Envelope hb = header(Kind::hb);
  hb.count = 3;
  hb.digest = 0x5d41402a;
  check_wire(hb, "DSC1 hb b 9f2c61d04a7e13b8 1042 1733541234567 3 000000005d41402a");
  Envelope roster = header(Kind::roster);
  roster.part = 1;
  roster.parts = 2;
  roster.entries = {RosterEntry{1, 100, 100, "guest-1@b"}, RosterEntry{2, 101, 150, "bob:x"}};
  check_wire(roster,
             "DSC1 roster b 9f2c61d04a7e13b8 1042 1733541234567 1/2 1:100:100:guest-1@b 2:101:150:bob:x");
  Envelope sync = header(Kind::sync);
  sync.text = "*";
  check_wire(sync, "DSC1 sync b 9f2c61d04a7e13b8 1042 1733541234567 *");
  sync.text = "node-7";
  check_wire(sync, "DSC1 sync b 9f2c61d04a7e13b8 1042 1733541234567 node-7");
  Envelope bye = header(Kind::bye);
  bye.text = "server shutting down";
  check_wire(bye, "DSC1 bye b 9f2c61d04a7e13b8 1042 1733541234567 server shutting down");
}

TEST_CASE("encode_envelope: free text keeps its spaces and TABs, and may be empty") {
  check_wire(member(Kind::chat, 1, "a", "  two  spaces\tand a tab "),
             std::string(head) + "1 a   two  spaces\tand a tab ");
  check_wire(member(Kind::chat, 1, "a", ""), std::string(head) + "1 a ");
  check_wire(member(Kind::chat, 1, "zеd", "уя σ ✓"), std::string(head) + "1 zеd уя σ ✓");
  Envelope empty_roster = header(Kind::roster);
  check_wire(empty_roster, "DSC1 roster b 9f2c61d04a7e13b8 1042 1733541234567 1/1");
  Envelope bye = header(Kind::bye);
  check_wire(bye, "DSC1 bye b 9f2c61d04a7e13b8 1042 1733541234567 ");
}

TEST_CASE("parse_envelope: numbers within 64 bits; epoch in 1 to 16 lowercase hex digits") {
  const auto parsed = parse_envelope("DSC1 hb a 1 18446744073709551615 0 0 ffffffffffffffff");
  REQUIRE(parsed.has_value());
  CHECK(parsed->epoch == 1);
  CHECK(parsed->seq == 18446744073709551615ULL);
  CHECK(parsed->digest == 0xffffffffffffffffULL);
  CHECK(encode_envelope(*parsed) == "DSC1 hb a 0000000000000001 18446744073709551615 0 0 ffffffffffffffff");
  check_rejected("DSC1 hb a 1 18446744073709551616 0 0 0000000000000000", "bad seq");
  check_rejected("DSC1 hb a 1 1 -1 0 0000000000000000", "bad clock");
  check_rejected("DSC1 hb a 1 +1 0 0 0000000000000000", "bad seq");
  check_rejected("DSC1 hb a 10000000000000000 1 0 0 0000000000000000", "bad epoch");
  check_rejected("DSC1 hb a ABC 1 0 0 0000000000000000", "bad epoch");
  check_rejected("DSC1 hb a 1 1 0 0 00000000000000", "bad digest");
  check_rejected("DSC1 hb a 1 1 0 x 0000000000000000", "bad member count");
}

TEST_CASE("parse_envelope: rejects a bad header with its reason") {
  check_rejected("", "not a DSC1 envelope");
  check_rejected("DSC2 hb a 1 1 1 0 0000000000000000", "not a DSC1 envelope");
  check_rejected("DSC1", "missing kind");
  check_rejected("DSC1 shout a 1 1 1 x", "unknown kind");
  check_rejected("DSC1 HB a 1 1 1 0 0000000000000000", "unknown kind");
  check_rejected("DSC1 hb A 1 1 1 0 0000000000000000", "bad node name");
  check_rejected("DSC1 hb a_b 1 1 1 0 0000000000000000", "bad node name");
  check_rejected("DSC1 hb abcdefghijklmnopq 1 1 1 0 0000000000000000", "bad node name");
  check_rejected("DSC1 hb  1 1 1 0 0000000000000000", "bad node name");
  check_rejected("DSC1 hb a", "missing epoch");
  check_rejected("DSC1 hb a 1 1", "bad clock");
  check_rejected("DSC1  hb a 1 1 1 0 0000000000000000", "unknown kind");
  check_rejected("DSC1 hb a 1 1 1 0 0000000000000000 extra", "unexpected field");
  check_rejected("DSC1 hb a 1 1 1 0 0000000000000000 ", "unexpected field");
  check_rejected(std::string(head) + "1 a " + std::string(dschat::max_envelope_size, 'x'),
                 "envelope too long");
}

TEST_CASE("parse_envelope: rejects bad names and text") {
  check_rejected(std::string(head) + "1 a\tb hi", "bad name");
  check_rejected(std::string(head) + "1  hi", "bad name");
  check_rejected(std::string(head) + "1 a\x1b[2J hi", "bad name");
  check_rejected(std::string(head) + "1 " + std::string(dschat::max_envelope_name + 1, 'n') + " hi",
                 "bad name");
  check_rejected(std::string(head) + "1 alice", "missing text");
  check_rejected(std::string(head) + "1 alice a\nb", "bad text");
  check_rejected(std::string(head) + "1 alice a\rb", "bad text");
  check_rejected(std::string(head) + "1 alice \xff", "bad text");
  check_rejected(std::string(head) + "1 alice \xe2\x80\xae", "bad text");
  check_rejected(std::string(head) + "x alice hi", "bad member id");
  check_rejected("DSC1 nick b 1 1 1 7 old", "missing name");
  check_rejected("DSC1 nick b 1 1 1 7 old new extra", "unexpected field");
  check_rejected("DSC1 join b 1 1 1 7 a b", "unexpected field");
}

TEST_CASE("parse_envelope: rejects bad roster parts and entries, and bad sync targets") {
  check_rejected("DSC1 roster b 1 1 1", "missing roster part");
  check_rejected("DSC1 roster b 1 1 1 0/1", "bad roster part");
  check_rejected("DSC1 roster b 1 1 1 2/1", "bad roster part");
  check_rejected("DSC1 roster b 1 1 1 1", "bad roster part");
  check_rejected("DSC1 roster b 1 1 1 1/10001", "bad roster part");
  check_rejected("DSC1 roster b 1 1 1 1/1 1:2:3", "bad roster entry");
  check_rejected("DSC1 roster b 1 1 1 1/1 1:2:3:", "bad roster entry");
  check_rejected("DSC1 roster b 1 1 1 1/1 1:2:x:a", "bad roster entry");
  check_rejected("DSC1 roster b 1 1 1 1/1 1:2:3:a  2:2:3:b", "bad roster entry");
  check_rejected("DSC1 sync b 1 1 1 B", "bad sync target");
  check_rejected("DSC1 sync b 1 1 1 **", "bad sync target");
  check_rejected("DSC1 sync b 1 1 1", "missing sync target");
}

TEST_CASE("encode_envelope refuses what parse_envelope would not read back") {
  CHECK_THROWS_AS(encode_envelope(member(Kind::chat, 1, "a b", "x")), std::invalid_argument);
  CHECK_THROWS_AS(encode_envelope(member(Kind::chat, 1, "a", "x\ny")), std::invalid_argument);
  Envelope bad_node = member(Kind::join, 1, "a");
  bad_node.node = "Node";
  CHECK_THROWS_AS(encode_envelope(bad_node), std::invalid_argument);
  Envelope bad_roster = header(Kind::roster);
  bad_roster.part = 3;
  bad_roster.parts = 2;
  CHECK_THROWS_AS(encode_envelope(bad_roster), std::invalid_argument);
}

TEST_CASE("is_valid_node_name and counts_seq") {
  CHECK(dschat::is_valid_node_name("a"));
  CHECK(dschat::is_valid_node_name("node-07-abcdefgh"));
  CHECK_FALSE(dschat::is_valid_node_name(""));
  CHECK_FALSE(dschat::is_valid_node_name("node-07-abcdefghi"));
  CHECK_FALSE(dschat::is_valid_node_name("a.b"));
  for (const Kind kind : {Kind::chat, Kind::me, Kind::join, Kind::nick, Kind::leave})
    CHECK(dschat::counts_seq(kind));
  for (const Kind kind : {Kind::hb, Kind::roster, Kind::sync, Kind::bye})
    CHECK_FALSE(dschat::counts_seq(kind));
}
