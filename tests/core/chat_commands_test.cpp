// The chat commands of ChatRoom (src/core/chat_commands.cpp).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/chat_room.hpp"
#include "room_fixture.hpp"

using dschat::LineResult;
using dschat::test::RoomFixture;
using Texts = std::vector<std::string>;

namespace {

constexpr const char* invalid_name = "! invalid name — 1–32 letters, digits, _ - .";
constexpr const char* mixed_scripts =
    "! invalid name — it mixes scripts that look alike, such as Latin and Cyrillic";

std::string reserved(const std::string& name) {
  return "! reserved name: " + name + " — guest-N names belong to newcomers";
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

}  // namespace

TEST_CASE("ChatRoom /help") {
  RoomFixture f;
  f.join_quietly(2);
  CHECK(f.room.on_line(f.id(0), "/help") == LineResult::keep_open);
  CHECK(f.peer(0).texts() ==
        Texts{"* commands: /nick NAME · /who · /me ACTION · /quit [REASON] · /help — //text sends /text"});
  CHECK(f.peer(1).got.empty());
}

TEST_CASE("ChatRoom /who") {
  RoomFixture f;
  f.join_quietly(4);

  SUBCASE("lists members in join order, to the sender only") {
    f.room.on_line(f.id(0), "/nick alice");
    f.room.on_line(f.id(1), "/nick bob");
    f.clear_all();
    f.room.on_line(f.id(2), "/who");
    CHECK(f.peer(2).texts() == Texts{"* 4 online: alice, bob, guest-3, guest-4"});
    CHECK(f.total() == 1);
  }

  SUBCASE("join order survives removals") {
    f.room.leave(f.id(0));
    f.join();
    f.clear_all();
    f.room.on_line(f.id(4), "/who");
    CHECK(f.peer(4).last() == "* 4 online: guest-2, guest-3, guest-4, guest-5");
  }

  SUBCASE("commands ignore ASCII case") {
    f.room.on_line(f.id(3), "/WHO");
    CHECK(f.peer(3).last() == "* 4 online: guest-1, guest-2, guest-3, guest-4");
  }
}

TEST_CASE("ChatRoom /who NAME") {
  RoomFixture f;
  f.join_quietly(3);
  f.room.on_line(f.id(0), "/nick alice");
  f.clear_all();

  SUBCASE("someone online, found the way names are compared") {
    f.room.on_line(f.id(1), "/who ALICE");
    CHECK(f.peer(1).last() == "* alice is online");
    f.room.on_line(f.id(1), "/who \xD0\xB0lice");  // Cyrillic а: looks like alice
    CHECK(f.peer(1).last() == "* alice is online");
    f.room.on_line(f.id(1), "/who guest-3");
    CHECK(f.peer(1).last() == "* guest-3 is online");
  }

  SUBCASE("someone not online, or not a name at all, shown safely") {
    f.room.on_line(f.id(1), "/who bob");
    CHECK(f.peer(1).last() == "! bob is not online");
    f.room.on_line(f.id(1), "/who a\x1B[2Jb");
    CHECK(f.peer(1).last() == "! a^[[2Jb is not online");
    CHECK(f.total() == 2);
  }
}

TEST_CASE("ChatRoom /who in a big room answers a page at a time") {
  RoomFixture f;
  f.join_quietly(120);  // pages of 50: 50, 50, 20
  const auto names = [](std::size_t first, std::size_t last) {
    std::string list;
    for (std::size_t n = first; n <= last; ++n)
      list += (n == first ? "guest-" : ", guest-") + std::to_string(n);
    return list;
  };

  f.room.on_line(f.id(7), "/who");
  CHECK(f.peer(7).last() == "* 120 online, page 1 of 3: " + names(1, 50) + " — /who 2 for more");
  f.room.on_line(f.id(7), "/who 2");
  CHECK(f.peer(7).last() == "* 120 online, page 2 of 3: " + names(51, 100) + " — /who 3 for more");
  f.room.on_line(f.id(7), "/who 3");
  CHECK(f.peer(7).last() == "* 120 online, page 3 of 3: " + names(101, 120));

  // Join order holds after removals: the page is sorted by when each one joined.
  f.room.leave(f.id(0));
  f.room.leave(f.id(60));
  f.room.on_line(f.id(7), "/who 3");
  CHECK(f.peer(7).last() == "* 118 online, page 3 of 3: " + names(103, 120));

  for (const char* page : {"0", "4", "99999999999999999999"}) {
    f.room.on_line(f.id(7), std::string("/who ") + page);
    CHECK(f.peer(7).last() ==
          "! no page " + std::string(page).substr(0, 9) + " — 118 online, /who 1 to /who 3");
  }
  // However big the room, no reply is much longer than a page of the longest names.
  CHECK(f.peer(7).last().size() < 200);
}

TEST_CASE("ChatRoom /me") {
  RoomFixture f;
  f.join_quietly(3);

  SUBCASE("goes to every other member as an action, formatted once") {
    f.room.on_line(f.id(0), "/me waves");
    CHECK(f.peer(0).got.empty());
    CHECK(f.peer(1).texts() == Texts{"<guest-1> *waves*"});
    CHECK(f.peer(1).got[0].get() == f.peer(2).got[0].get());
  }

  SUBCASE("the action is sanitized") {
    f.room.on_line(f.id(0), "/me \x1b]0;pwned\x07");
    CHECK(f.peer(1).last() == "<guest-1> *^[]0;pwned^G*");
  }

  SUBCASE("without an action") {
    f.room.on_line(f.id(0), "/me");
    CHECK(f.peer(0).texts() == Texts{"! usage: /me ACTION"});
    f.room.on_line(f.id(0), "/me   ");
    CHECK(f.peer(0).last() == "! usage: /me ACTION");
    CHECK(f.peer(1).got.empty());
  }
}

TEST_CASE("ChatRoom /quit") {
  RoomFixture f;
  f.join_quietly(2);

  SUBCASE("without a reason") {
    CHECK(f.room.on_line(f.id(0), "/quit") == LineResult::close);
    CHECK(f.total() == 0);
    f.room.leave(f.id(0));
    CHECK(f.peer(1).texts() == Texts{"* guest-1 left"});
  }

  SUBCASE("with a reason, sanitized") {
    CHECK(f.room.on_line(f.id(0), "/quit see you \x1b[2J\xfe") == LineResult::close);
    f.room.leave(f.id(0));
    CHECK(f.peer(1).texts() == Texts{"* guest-1 left (quit: see you ^[[2J\xEF\xBF\xBD)"});
  }

  SUBCASE("the caller's reason wins over the quit reason") {
    f.room.on_line(f.id(0), "/quit bye");
    f.room.leave(f.id(0), "connection reset");
    CHECK(f.peer(1).last() == "* guest-1 left (connection reset)");
  }
}

TEST_CASE("ChatRoom /nick") {
  RoomFixture f;
  f.join_quietly(3);
  const auto nick = [&](std::size_t who, const std::string& name) {
    f.clear_all();
    f.room.on_line(f.id(who), "/nick " + name);
    return f.peer(who).last();
  };

  SUBCASE("success is told to everyone, renamer included, with one message") {
    CHECK(nick(0, "alice") == "* guest-1 is now alice");
    CHECK(f.peer(1).texts() == Texts{"* guest-1 is now alice"});
    CHECK(f.peer(0).got[0].get() == f.peer(2).got[0].get());
    CHECK(f.room.name(f.id(0)) == "alice");
    f.room.on_line(f.id(0), "hi");
    CHECK(f.peer(1).last() == "<alice> hi");
  }

  SUBCASE("usage") {
    CHECK(nick(0, "") == "! usage: /nick NAME");
    f.room.on_line(f.id(0), "/nick");
    CHECK(f.peer(0).last() == "! usage: /nick NAME");
    CHECK(f.peer(1).got.empty());
  }

  SUBCASE("length counts characters: 32 fit, 33 do not") {
    CHECK(nick(0, repeat("a", 33)) == invalid_name);
    CHECK(nick(0, repeat("a", 32)) == "* guest-1 is now " + repeat("a", 32));
    CHECK(nick(1, repeat("漢", 33)) == invalid_name);
    CHECK(nick(1, repeat("漢", 32)) == "* guest-2 is now " + repeat("漢", 32));
  }

  SUBCASE("letters of any script, digits, _ - .") {
    CHECK(nick(0, "李小龍") == "* guest-1 is now 李小龍");
    CHECK(nick(1, "Саша_2.0-я") == "* guest-2 is now Саша_2.0-я");
    CHECK(nick(2, "Ωμέγα") == "* guest-3 is now Ωμέγα");
  }

  SUBCASE("punctuation, spaces, symbols and bad bytes are refused") {
    for (const char* bad : {"al!ce", "a,b", "a b", "a@b", "a/b", "«a»", "a×b", "a\xe2\x80\x94z",
                            "a\xe3\x80\x82", "a\xef\xbb\xbf", "a\x1b", "a\xff", "\xc0\xaf"}) {
      CAPTURE(bad);
      CHECK(nick(0, bad) == invalid_name);
    }
    CHECK(f.peer(1).got.empty());
    CHECK(f.room.name(f.id(0)) == "guest-1");
  }

  SUBCASE("names are unique ignoring case") {
    nick(0, "alice");
    CHECK(nick(1, "ALICE") == "! name taken: ALICE");
    CHECK(f.peer(0).got.empty());
    nick(0, "Саша");
    CHECK(nick(1, "САША") == "! name taken: САША");
    nick(0, "élodie");
    CHECK(nick(1, "ÉLODIE") == "! name taken: ÉLODIE");
    nick(0, "ΣΟΦΙΑ");
    CHECK(nick(1, "σοφια") == "! name taken: σοφια");
    CHECK(f.room.name(f.id(1)) == "guest-2");
  }

  SUBCASE("renaming to one's own name with another case is allowed") {
    nick(0, "alice");
    CHECK(nick(0, "Alice") == "* alice is now Alice");
    CHECK(f.peer(1).last() == "* alice is now Alice");
    CHECK(nick(1, "alice") == "! name taken: alice");
  }

  SUBCASE("the exact same name changes nothing and tells only the sender") {
    nick(0, "alice");
    CHECK(nick(0, "alice") == "! you are already alice");
    CHECK(f.peer(1).got.empty());
    CHECK(nick(1, "guest-2") == "! you are already guest-2");
  }

  SUBCASE("guest-N names are reserved unless they are one's own") {
    CHECK(nick(0, "guest-2") == reserved("guest-2"));
    CHECK(nick(0, "guest-99") == reserved("guest-99"));
    CHECK(nick(0, "GUEST-7") == reserved("GUEST-7"));
    CHECK(nick(0, "Guest-1") == "* guest-1 is now Guest-1");
    nick(0, "alice");
    CHECK(nick(0, "guest-1") == "* alice is now guest-1");
    CHECK(nick(1, "guest-x") == "* guest-2 is now guest-x");
  }

  SUBCASE("an old name is free again after a rename or a leave") {
    nick(0, "alice");
    nick(0, "carol");
    CHECK(nick(1, "alice") == "* guest-2 is now alice");
    f.room.leave(f.id(0));
    CHECK(nick(2, "Carol") == "* guest-3 is now Carol");
  }

  SUBCASE("look-alikes of guest-N names are reserved too") {
    CHECK(nick(0, "gu\xd0\xb5st-2") == reserved("gu\xd0\xb5st-2"));          // Cyrillic е
    CHECK(nick(0, "guest-\xef\xbc\x92") == reserved("guest-\xef\xbc\x92"));  // fullwidth 2
    CHECK(f.peer(1).got.empty());
    CHECK(nick(1, "guest-l") == reserved("guest-l"));         // small L looks like guest-1's digit
    CHECK(nick(0, "guest-l") == "* guest-1 is now guest-l");  // ... which is one's own
  }

  SUBCASE("invisible and ignorable characters cannot make a second alice") {
    nick(0, "alice");
    for (const char* tail : {"\xcd\x8f", "\xe3\x85\xa4", "\xd8\x9c", "\xf3\xa0\x81\xa1", "\xe1\xa0\x8e"}) {
      CAPTURE(tail);
      CHECK(nick(1, std::string("alice") + tail) == invalid_name);
    }
    CHECK(nick(1, "\xe3\x85\xa4") == invalid_name);      // only the Hangul filler
    CHECK(nick(1, "\xcc\x81\xcc\x81") == invalid_name);  // only combining marks
    CHECK(f.peer(0).got.empty());
    CHECK(f.room.name(f.id(1)) == "guest-2");
  }

  SUBCASE("look-alike names are taken") {
    nick(0, "alice");
    CHECK(nick(1, "\xd0\xb0lice") == mixed_scripts);  // Cyrillic а among Latin letters
    nick(2, "ace");
    CHECK(nick(1, "\xd0\xb0\xd1\x81\xd0\xb5") == "! name taken: асе looks like ace");  // all Cyrillic
    nick(0, "zed");
    CHECK(nick(1,
               "z\xd0\xb5"
               "d") == mixed_scripts);
    nick(0, "\xc3\xa9ve");                                         // precomposed é
    CHECK(nick(1, "e\xcc\x81ve") == "! name taken: e\xcc\x81ve");  // decomposed: the same name
    nick(0,
         "\xef\xbd\x81"
         "bc");  // fullwidth a
    CHECK(nick(1, "abc") == "! name taken: abc looks like ａbc");
    CHECK(f.room.name(f.id(1)) == "guest-2");
  }

  SUBCASE("extra blanks around the name are ignored") {
    CHECK(nick(0, "  bob\t") == "* guest-1 is now bob");
  }
}

TEST_CASE("ChatRoom unknown commands") {
  RoomFixture f;
  f.join_quietly(2);
  const auto send = [&](const std::string& line) {
    f.clear_all();
    CHECK(f.room.on_line(f.id(0), line) == LineResult::keep_open);
    CHECK(f.peer(1).got.empty());
    return f.peer(0).last();
  };

  CHECK(send("/xyz some args") == "! unknown command /xyz — /help lists commands");
  CHECK(send("/") == "! unknown command / — /help lists commands");
  CHECK(send("/ x") == "! unknown command / — /help lists commands");
  CHECK(send("/a\x1b"
             "b") == "! unknown command /a^[b — /help lists commands");
  CHECK(send("/" + repeat("x", 100)) == "! unknown command /" + repeat("x", 32) + " — /help lists commands");
  // Cut at 32 bytes without splitting a character: 16 two-byte letters fit exactly, 17 do not.
  CHECK(send("/" + repeat("é", 17)) == "! unknown command /" + repeat("é", 16) + " — /help lists commands");
  CHECK(send("/x" + repeat("é", 17)) == "! unknown command /x" + repeat("é", 15) + " — /help lists commands");
}

// docs/protocol.md, "Who wrote a line": `* ` and `! ` lines are the server's alone. Whatever a member types,
// the others get it after `<NAME> `, and a quit reason is marked as the member's own.
TEST_CASE("ChatRoom: no member text takes the form of a server notice") {
  RoomFixture f;
  f.join_quietly(2);

  SUBCASE("an action is the member's line") {
    f.room.on_line(f.id(0), "/me left (bye)");
    CHECK(f.peer(1).texts() == Texts{"<guest-1> *left (bye)*"});
  }

  SUBCASE("a quit reason cannot pass for the server's") {
    f.room.on_line(f.id(0), "/quit connection reset");
    f.room.leave(f.id(0));
    CHECK(f.peer(1).texts() == Texts{"* guest-1 left (quit: connection reset)"});
  }

  SUBCASE("nobody may be called server, in any look-alike form") {
    for (const std::string name : {"server", "SERVER", "Server", "s\u0435rver", "ѕerver", "ｓｅｒｖｅｒ"}) {
      f.room.on_line(f.id(0), "/nick " + name);
      CAPTURE(name);
      CHECK(f.peer(0).last() == "! reserved name: " + name + " — it would pass for the server");
    }
    CHECK(f.peer(1).got.empty());
    f.room.on_line(f.id(0), "/nick servers");
    CHECK(f.peer(1).last() == "* guest-1 is now servers");
  }

  SUBCASE("no line a member causes starts with `* ` unless the server wrote all of it") {
    for (const std::string typed :
         {"* server shutting down", "/me shutting down", "//me x", "! server full"}) {
      f.clear_all();
      f.room.on_line(f.id(0), typed);
      CAPTURE(typed);
      REQUIRE(f.peer(1).texts().size() == 1);
      CHECK(f.peer(1).last().starts_with("<guest-1> "));
    }
  }
}

TEST_CASE("ChatRoom /pass from a member") {
  // A client that sends its password on every connect may send it to a room without one: it is answered,
  // and what it sent goes to nobody else.
  RoomFixture f;
  f.join_quietly(2);
  f.clear_all();
  CHECK(f.room.on_line(f.id(0), "/pass secret") == LineResult::keep_open);
  CHECK(f.peer(0).last() == "! you are in the room already");
  CHECK(f.peer(1).got.empty());
}
