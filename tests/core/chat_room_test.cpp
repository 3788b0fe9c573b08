#include "core/chat_room.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "room_fixture.hpp"

using dschat::ChatRoom;
using dschat::ChatRoomOptions;
using dschat::LineResult;
using dschat::test::RoomFixture;
using Texts = std::vector<std::string>;

TEST_CASE("ChatRoom::join") {
  RoomFixture f;

  SUBCASE("the first member is welcomed alone") {
    const auto id = f.join();
    CHECK(f.peer(0).texts() == Texts{"* welcome guest-1 — 1 online — /help lists commands"});
    CHECK(f.room.name(id) == "guest-1");
    CHECK(f.room.size() == 1);
  }

  SUBCASE("the online count includes the newcomer and the others get one shared notice") {
    f.join_quietly(3);
    f.join();
    CHECK(f.peer(3).texts() == Texts{"* welcome guest-4 — 4 online — /help lists commands"});
    for (std::size_t i = 0; i < 3; ++i)
      CHECK(f.peer(i).texts() == Texts{"* guest-4 joined"});
    CHECK(f.peer(0).got[0].get() == f.peer(1).got[0].get());
    CHECK(f.peer(1).got[0].get() == f.peer(2).got[0].get());
  }

  SUBCASE("guest numbers count up and are never reused") {
    f.join();
    const auto second = f.join();
    f.room.leave(second);
    const auto third = f.join();
    CHECK(f.room.name(third) == "guest-3");
    CHECK(f.peer(2).last() == "* welcome guest-3 — 2 online — /help lists commands");
    CHECK(third != second);
  }
}

TEST_CASE("ChatRoom::on_line") {
  RoomFixture f;
  f.join_quietly(3);

  SUBCASE("a plain line goes to every other member, formatted once") {
    CHECK(f.room.on_line(f.id(0), "hello there") == LineResult::keep_open);
    CHECK(f.peer(0).got.empty());
    CHECK(f.peer(1).texts() == Texts{"<guest-1> hello there"});
    CHECK(f.peer(2).texts() == Texts{"<guest-1> hello there"});
    CHECK(f.peer(1).got[0].get() == f.peer(2).got[0].get());
  }

  SUBCASE("empty lines are ignored") {
    CHECK(f.room.on_line(f.id(1), "") == LineResult::keep_open);
    CHECK(f.total() == 0);
  }

  SUBCASE("blank lines are still chat") {
    f.room.on_line(f.id(1), "  ");
    CHECK(f.peer(0).last() == "<guest-2>   ");
  }

  SUBCASE("control characters and invalid UTF-8 are sanitized") {
    f.room.on_line(f.id(0), "\x1b[31mred\x1b[0m \xff end\r");
    CHECK(f.peer(1).last() == "<guest-1> ^[[31mred^[[0m \xEF\xBF\xBD end^M");
  }

  SUBCASE("valid multibyte text and tabs pass unchanged") {
    f.room.on_line(f.id(0), "héllo\t日本 😀");
    CHECK(f.peer(1).last() == "<guest-1> héllo\t日本 😀");
  }

  SUBCASE("//text sends /text") {
    f.room.on_line(f.id(0), "//me is not a command");
    CHECK(f.peer(1).last() == "<guest-1> /me is not a command");
    f.room.on_line(f.id(0), "//");
    CHECK(f.peer(1).last() == "<guest-1> /");
  }

  SUBCASE("a line from an unknown id does nothing") {
    CHECK(f.room.on_line(999, "hello") == LineResult::keep_open);
    CHECK(f.total() == 0);
  }

  SUBCASE("lines after /quit are not relayed") {
    CHECK(f.room.on_line(f.id(0), "/quit") == LineResult::close);
    CHECK(f.room.on_line(f.id(0), "still here?") == LineResult::close);
    CHECK(f.total() == 0);
  }
}

TEST_CASE("ChatRoom::leave") {
  RoomFixture f;
  f.join_quietly(3);

  SUBCASE("the others are told, with one shared message") {
    f.room.leave(f.id(0));
    CHECK(f.peer(0).got.empty());
    CHECK(f.peer(1).texts() == Texts{"* guest-1 left"});
    CHECK(f.peer(2).texts() == Texts{"* guest-1 left"});
    CHECK(f.peer(1).got[0].get() == f.peer(2).got[0].get());
    CHECK(f.room.size() == 2);
    CHECK(f.room.name(f.id(0)).empty());
  }

  SUBCASE("a reason is shown, sanitized") {
    f.room.leave(f.id(1), "connection reset");
    CHECK(f.peer(0).last() == "* guest-2 left (connection reset)");
    f.room.leave(f.id(2), "bad\x1b");
    CHECK(f.peer(0).last() == "* guest-3 left (bad^[)");
  }

  SUBCASE("an unknown id is ignored, also when it already left") {
    f.room.leave(999, "x");
    CHECK(f.total() == 0);
    f.room.leave(f.id(0));
    f.clear_all();
    f.room.leave(f.id(0));
    CHECK(f.total() == 0);
    CHECK(f.room.size() == 2);
  }

  SUBCASE("a member that left is never sent anything again") {
    f.room.leave(f.id(1));
    f.room.on_line(f.id(0), "hi");
    f.room.on_line(f.id(2), "/nick carol");
    f.room.on_line(f.id(1), "ghost line");
    f.room.on_too_long(f.id(1));
    f.join();
    f.room.broadcast_shutdown();
    CHECK(f.peer(1).got.empty());
  }

  SUBCASE("the members moved by removal keep working") {
    f.join_quietly(2);  // five members
    f.room.leave(f.id(0));
    f.room.leave(f.id(2));
    CHECK(f.room.name(f.id(4)) == "guest-5");
    CHECK(f.room.name(f.id(1)) == "guest-2");
    f.room.on_line(f.id(4), "last one");
    CHECK(f.peer(1).last() == "<guest-5> last one");
    CHECK(f.peer(3).last() == "<guest-5> last one");
    CHECK(f.peer(4).last() == "* guest-3 left");
  }
}

TEST_CASE("ChatRoom::leave keeps membership consistent under churn") {
  // A small deterministic generator: any sequence of joins and leaves must leave fan-out exact.
  RoomFixture f;
  std::map<ChatRoom::MemberId, std::size_t> live;  // id -> peer index
  std::uint32_t seed = 12345;
  const auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  for (int step = 0; step < 500; ++step) {
    if (live.empty() || next() % 3 != 0) {
      const auto id = f.join();
      live.emplace(id, f.peers.size() - 1);
    } else {
      auto it = live.begin();
      std::advance(it, next() % live.size());
      f.room.leave(it->first);
      live.erase(it);
    }
    REQUIRE(f.room.size() == live.size());
    if (live.empty()) continue;
    f.clear_all();
    const auto sender = live.begin()->first;
    f.room.on_line(sender, "ping");
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < f.peers.size(); ++i) {
      const bool should_get = live.count(f.id(i)) != 0 && f.id(i) != sender;
      if (f.peer(i).got.size() != (should_get ? 1u : 0u)) ++wrong;
    }
    CAPTURE(step);
    REQUIRE(wrong == 0);
  }
}

TEST_CASE("ChatRoom::on_too_long") {
  SUBCASE("default limit") {
    RoomFixture f;
    f.join_quietly(2);
    f.room.on_too_long(f.id(0));
    CHECK(f.peer(0).texts() == Texts{"! line too long (max 4096 bytes)"});
    CHECK(f.peer(1).got.empty());
    f.room.on_too_long(999);
    CHECK(f.total() == 1);
  }
  SUBCASE("configured limit") {
    RoomFixture f(ChatRoomOptions{false, 100});
    f.join_quietly(1);
    f.room.on_too_long(f.id(0));
    CHECK(f.peer(0).last() == "! line too long (max 100 bytes)");
  }
}

TEST_CASE("ChatRoom::broadcast_shutdown") {
  RoomFixture f;
  f.join_quietly(3);
  f.room.on_line(f.id(0), "/quit bye");
  f.room.broadcast_shutdown();
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(f.peer(i).texts() == Texts{"* server shutting down"});
  CHECK(f.peer(0).got[0].get() == f.peer(2).got[0].get());

  f.clear_all();
  f.room.on_line(f.id(1), "too late");
  f.room.on_line(f.id(2), "/who");
  CHECK(f.total() == 0);
  f.room.leave(f.id(0));
  f.room.leave(f.id(1), "server shutting down");
  CHECK(f.total() == 0);
  CHECK(f.room.size() == 1);
}

TEST_CASE("ChatRoom raw mode") {
  RoomFixture f(ChatRoomOptions{true, 4096});
  f.join();
  f.join();
  f.join();

  SUBCASE("no welcome and no joined notices") {
    CHECK(f.total() == 0);
  }

  SUBCASE("every line, empty ones too, goes unchanged to the others, formatted once") {
    f.room.on_line(f.id(0), "hello");
    f.room.on_line(f.id(0), "");
    CHECK(f.peer(0).got.empty());
    CHECK(f.peer(1).texts() == Texts{"hello", ""});
    CHECK(f.peer(2).texts() == Texts{"hello", ""});
    CHECK(f.peer(1).got[0].get() == f.peer(2).got[0].get());
    CHECK(f.peer(1).got[1].get() == f.peer(2).got[1].get());
  }

  SUBCASE("commands are plain lines") {
    CHECK(f.room.on_line(f.id(0), "/quit") == LineResult::keep_open);
    f.room.on_line(f.id(0), "/nick bob");
    f.room.on_line(f.id(0), "//x");
    CHECK(f.peer(1).texts() == Texts{"/quit", "/nick bob", "//x"});
    CHECK(f.room.name(f.id(0)) == "guest-1");
  }

  SUBCASE("lines are still sanitized") {
    f.room.on_line(f.id(0),
                   "a\x1b"
                   "b\xc3");
    CHECK(f.peer(1).last() == "a^[b\xEF\xBF\xBD");
    CHECK(f.peer(1).got[0].get() == f.peer(2).got[0].get());
  }

  SUBCASE("leaving is silent") {
    f.room.leave(f.id(0));
    f.room.leave(f.id(1), "connection reset");
    CHECK(f.total() == 0);
  }

  SUBCASE("too long lines and shutdown are still reported") {
    f.room.on_too_long(f.id(0));
    CHECK(f.peer(0).last() == "! line too long (max 4096 bytes)");
    f.room.broadcast_shutdown();
    CHECK(f.peer(2).last() == "* server shutting down");
  }
}

TEST_CASE("ChatRoom::begin_joins / end_joins") {
  RoomFixture f;
  f.join_quietly(2);

  SUBCASE("a batch tells the others the same lines in one message each") {
    {
      const dschat::JoinBatch batch(&f.room);
      f.join();
      f.join();
      f.join();
      CHECK(f.peer(0).got.empty());  // held back until the batch ends
    }
    for (std::size_t i = 0; i < 2; ++i) {
      REQUIRE(f.peer(i).got.size() == 1);
      CHECK(*f.peer(i).got[0] == "* guest-3 joined\n* guest-4 joined\n* guest-5 joined\n");
    }
    CHECK(f.peer(0).got[0].get() == f.peer(1).got[0].get());  // formatted once, shared
    REQUIRE(f.peer(2).got.size() == 2);
    CHECK(*f.peer(2).got[0] == "* welcome guest-3 — 3 online — /help lists commands\n");
    CHECK(*f.peer(2).got[1] == "* guest-4 joined\n* guest-5 joined\n");
    REQUIRE(f.peer(3).got.size() == 2);
    CHECK(*f.peer(3).got[1] == "* guest-5 joined\n");
    CHECK(f.peer(4).texts() == Texts{"* welcome guest-5 — 5 online — /help lists commands"});
  }

  SUBCASE("the bytes are those of one join at a time") {
    RoomFixture one;
    one.join_quietly(2);
    for (int i = 0; i < 3; ++i)
      one.join();
    {
      const dschat::JoinBatch batch(&f.room);
      for (int i = 0; i < 3; ++i)
        f.join();
    }
    for (std::size_t p = 0; p < 5; ++p) {
      std::string batched;
      std::string single;
      for (const auto& msg : f.peer(p).got)
        batched += *msg;
      for (const auto& msg : one.peer(p).got)
        single += *msg;
      CHECK(batched == single);
    }
  }

  SUBCASE("an empty batch sends nothing, and joins after it notify at once again") {
    { const dschat::JoinBatch batch(&f.room); }
    CHECK(f.total() == 0);
    f.join();
    CHECK(f.peer(0).texts() == Texts{"* guest-3 joined"});
  }
}

namespace {

// Everything a peer received, as the bytes on its socket.
std::string stream(const dschat::test::FakePeer& peer) {
  std::string out;
  for (const auto& msg : peer.got)
    out += *msg;
  return out;
}

// Plays the same script in a room one join at a time and in a room inside one JoinBatch; every member
// still there must get the same bytes from both. A member that left inside the batch gets a prefix: the
// notices held back when it left are not sent to it (leave() comes after its connection has ended).
template <class Script>
void check_batch_matches_one_at_a_time(Script script) {
  RoomFixture one;
  RoomFixture batched;
  one.join_quietly(2);
  batched.join_quietly(2);
  script(one);
  {
    const dschat::JoinBatch batch(&batched.room);
    script(batched);
  }
  REQUIRE(batched.peers.size() == one.peers.size());
  for (std::size_t p = 0; p < one.peers.size(); ++p) {
    CAPTURE(p);
    if (!batched.room.name(batched.id(p)).empty()) {
      CHECK(stream(batched.peer(p)) == stream(one.peer(p)));
    } else {
      CHECK(stream(one.peer(p)).starts_with(stream(batched.peer(p))));
    }
  }
}

}  // namespace

TEST_CASE("ChatRoom: a leave or the shutdown inside a join batch") {
  SUBCASE("leaves of newcomers and of old members come after the joins before them") {
    const auto script = [](RoomFixture& f) {
      f.join();                         // guest-3
      f.join();                         // guest-4
      f.room.leave(f.id(3), "bye");     // guest-4, a newcomer of the batch
      f.join();                         // guest-5
      f.room.leave(f.id(0));            // guest-1, there before the batch
    };
    check_batch_matches_one_at_a_time(script);

    RoomFixture f;
    f.join_quietly(2);
    {
      const dschat::JoinBatch batch(&f.room);
      script(f);
    }
    CHECK(stream(f.peer(1)) ==
          "* guest-3 joined\n* guest-4 joined\n* guest-4 left (bye)\n* guest-5 joined\n* guest-1 left\n");
    CHECK(stream(f.peer(2)) ==
          "* welcome guest-3 — 3 online — /help lists commands\n* guest-4 joined\n* guest-4 left (bye)\n"
          "* guest-5 joined\n* guest-1 left\n");
    CHECK(f.room.size() == 3);
  }

  SUBCASE("the shutdown notice follows the joins before it, and later leaves stay silent") {
    const auto script = [](RoomFixture& f) {
      f.join();  // guest-3
      f.join();  // guest-4
      f.room.broadcast_shutdown();
      f.room.leave(f.id(2));
      f.room.leave(f.id(0), "gone");
    };
    check_batch_matches_one_at_a_time(script);

    RoomFixture f;
    f.join_quietly(2);
    {
      const dschat::JoinBatch batch(&f.room);
      script(f);
    }
    CHECK(stream(f.peer(1)) == "* guest-3 joined\n* guest-4 joined\n* server shutting down\n");
    CHECK(stream(f.peer(3)) == "* welcome guest-4 — 4 online — /help lists commands\n* server shutting down\n");
    CHECK(f.room.size() == 2);
  }
}

TEST_CASE("ChatRoom: nothing overtakes the notices a batch holds back") {
  // A newcomer's reader can run inside the batch (its first lines already waiting): its /nick, its lines
  // and the room's replies must come after its "joined", as they would one join at a time.
  RoomFixture f;
  f.join_quietly(1);
  const dschat::JoinBatch batch(&f.room);
  const auto newcomer = f.join();
  CHECK(f.room.on_line(newcomer, "/nick netcat") == LineResult::keep_open);
  CHECK(f.room.on_line(newcomer, "hi") == LineResult::keep_open);
  CHECK(f.room.on_line(newcomer, "/help") == LineResult::keep_open);
  CHECK(f.peer(0).texts() == Texts{"* guest-2 joined", "* guest-2 is now netcat", "<netcat> hi"});
  CHECK(f.peer(1).texts().size() == 3);  // welcome, nick notice, help
  CHECK(f.peer(1).texts().front().starts_with("* welcome guest-2"));
}
