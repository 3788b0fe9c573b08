// ChatRoom's quiet joins and big-room summaries (docs/protocol.md, "Joins and leaves"): a connection that
// comes and goes without a word costs the room nothing, and however many join, a member of a big room
// gets one summary per period.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/chat_room.hpp"
#include "room_fixture.hpp"

using dschat::ChatRoomOptions;
using dschat::RoomClock;
using dschat::test::RoomFixture;
using Texts = std::vector<std::string>;
using namespace std::chrono_literals;

namespace {

ChatRoomOptions quiet(std::size_t big_room = 0) {
  ChatRoomOptions options;
  options.announce_after = 1s;
  options.big_room = big_room;
  return options;
}

const RoomClock::time_point t0 = RoomClock::time_point{} + 1h;

/// n members who joined long before t0 and were announced; the room's clock at t0; nothing received.
void settle(RoomFixture& f, std::size_t n) {
  f.room.tick(t0 - 1min);
  f.join_quietly(n);
  f.room.tick(t0);
  f.clear_all();
}

}  // namespace

TEST_CASE("ChatRoom: a newcomer is announced after announce_after") {
  RoomFixture f(quiet());
  settle(f, 1);
  f.join();
  CHECK(f.peer(1).texts() == Texts{"* welcome guest-2 — 2 online — /help lists commands"});
  CHECK(f.peer(0).got.empty());
  f.room.tick(t0 + 999ms);
  CHECK(f.peer(0).got.empty());
  f.room.tick(t0 + 1s);
  CHECK(f.peer(0).texts() == Texts{"* guest-2 joined"});
  f.room.tick(t0 + 5s);
  CHECK(f.peer(0).got.size() == 1);
  CHECK(f.peer(1).got.size() == 1);  // never its own notice

  f.room.leave(f.id(1));
  CHECK(f.peer(0).last() == "* guest-2 left");
}

TEST_CASE("ChatRoom: members who joined before the first tick count their second from it") {
  RoomFixture f(quiet());
  f.join_quietly(2);  // the room has never ticked
  f.clear_all();
  f.room.tick(t0);
  CHECK(f.peer(0).got.empty());
  f.room.tick(t0 + 999ms);
  CHECK(f.peer(0).got.empty());
  f.room.tick(t0 + 1s);
  CHECK(f.peer(0).texts() == Texts{"* guest-2 joined"});
}

TEST_CASE("ChatRoom: a newcomer that speaks is announced before its line") {
  RoomFixture f(quiet());
  settle(f, 1);
  f.join();
  f.room.on_line(f.id(1), "hello");
  CHECK(f.peer(0).texts() == Texts{"* guest-2 joined", "<guest-2> hello"});
  f.room.tick(t0 + 2s);
  CHECK(f.peer(0).got.size() == 2);  // not announced twice

  f.join();
  f.room.on_line(f.id(2), "/nick carol");
  CHECK(f.peer(0).texts() ==
        Texts{"* guest-2 joined", "<guest-2> hello", "* guest-3 joined", "* guest-3 is now carol"});
}

TEST_CASE("ChatRoom: a newcomer that leaves unannounced leaves unannounced") {
  RoomFixture f(quiet());
  settle(f, 1);
  for (int i = 0; i < 100; ++i) {
    f.join();
    f.room.leave(f.ids.back(), "connection reset");
  }
  f.room.tick(t0 + 10s);
  CHECK(f.peer(0).got.empty());
  CHECK(f.room.size() == 1);
}

TEST_CASE("ChatRoom: newcomers are announced in the order they joined") {
  RoomFixture f(quiet());
  settle(f, 1);
  f.join();
  f.room.tick(t0 + 500ms);
  f.join();
  f.join();
  f.room.tick(t0 + 1200ms);
  CHECK(f.peer(0).texts() == Texts{"* guest-2 joined"});
  f.room.tick(t0 + 1500ms);
  CHECK(f.peer(0).texts() == Texts{"* guest-2 joined", "* guest-3 joined", "* guest-4 joined"});
  // Each hears of those who came after it, as with notices sent at once: the others counted it on arrival.
  CHECK(f.peer(1).texts() ==
        Texts{"* welcome guest-2 — 2 online — /help lists commands", "* guest-3 joined", "* guest-4 joined"});
  CHECK(f.peer(2).texts() ==
        Texts{"* welcome guest-3 — 3 online — /help lists commands", "* guest-4 joined"});
}

TEST_CASE("ChatRoom: a big room sums up joins and leaves") {
  RoomFixture f(quiet(3));
  settle(f, 3);

  SUBCASE("one summary per period, with the room's size") {
    for (int i = 0; i < 1500; ++i)
      f.join();
    f.room.tick(t0 + 3s);  // the newcomers are counted now, a second after they came
    f.room.leave(f.id(1));
    f.room.leave(f.id(2));
    f.room.tick(t0 + 12s);
    CHECK(f.peer(0).got.empty());  // ten seconds after the first was counted, not before
    f.room.tick(t0 + 13s);
    CHECK(f.peer(0).texts() == Texts{"* 1,500 joined, 2 left in the last 10 s — 1,501 online"});
    f.room.tick(t0 + 30s);
    CHECK(f.peer(0).got.size() == 1);  // nothing to tell, nothing told
  }

  SUBCASE("leaves alone") {
    f.join();
    f.room.tick(t0 + 3s);  // 4 members: counted as the room is big
    f.room.tick(t0 + 13s);
    CHECK(f.peer(0).texts() == Texts{"* 1 joined in the last 10 s — 4 online"});
    f.room.leave(f.id(3));
    CHECK(f.peer(0).got.size() == 1);  // 4 members before it left: counted
    f.room.tick(t0 + 23s);
    CHECK(f.peer(0).last() == "* 1 left in the last 10 s — 3 online");
  }

  SUBCASE("a small room again tells each leave") {
    f.room.leave(f.id(2));
    CHECK(f.peer(0).texts() == Texts{"* guest-3 left"});
  }

  SUBCASE("chat and nick changes stay individual") {
    f.join();
    f.room.on_line(f.id(3), "/nick dave");
    CHECK(f.peer(0).texts() == Texts{"* guest-4 is now dave"});
  }
}

TEST_CASE("ChatRoom: nothing is announced or summed up after the shutdown") {
  RoomFixture f(quiet(1));
  settle(f, 2);
  f.join();
  f.room.broadcast_shutdown();
  f.room.tick(t0 + 20s);
  CHECK(f.peer(0).texts() == Texts{"* server shutting down"});
}
