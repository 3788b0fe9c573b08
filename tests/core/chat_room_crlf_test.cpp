#include <doctest/doctest.h>

#include <string>

#include "core/chat_room.hpp"
#include "core/message.hpp"
#include "room_fixture.hpp"

using dschat::make_message;
using dschat::Message;
using dschat::with_crlf;
using dschat::test::RoomFixture;

TEST_CASE("with_crlf converts every LF once and keeps the result") {
  const Message msg = make_message("* a joined\n* b joined");
  Message cache;
  const Message& first = with_crlf(msg, cache);
  CHECK(*first == "* a joined\r\n* b joined\r\n");
  CHECK(with_crlf(msg, cache).get() == first.get());
  CHECK(*msg == "* a joined\n* b joined\n");
}

TEST_CASE("ChatRoom::set_crlf gives a member CRLF lines, one shared form per message") {
  RoomFixture room;
  room.join_quietly(4);
  room.room.set_crlf(room.id(1));
  room.room.set_crlf(room.id(2));
  room.room.on_line(room.id(0), "hello");
  REQUIRE(room.peer(1).got.size() == 1);
  REQUIRE(room.peer(2).got.size() == 1);
  REQUIRE(room.peer(3).got.size() == 1);
  CHECK(*room.peer(1).got[0] == "<guest-1> hello\r\n");
  CHECK(room.peer(1).got[0].get() == room.peer(2).got[0].get());  // converted once for both
  CHECK(*room.peer(3).got[0] == "<guest-1> hello\n");             // LF members keep the original
  CHECK(room.peer(0).got.empty());
}

TEST_CASE("ChatRoom::set_crlf applies to replies, notices and tell") {
  RoomFixture room;
  room.join_quietly(2);
  room.room.set_crlf(room.id(0));
  room.room.on_line(room.id(0), "/who");
  CHECK(*room.peer(0).got.back() == "* 2 online: guest-1, guest-2\r\n");
  room.room.tell(room.id(0), "! slow down");
  CHECK(*room.peer(0).got.back() == "! slow down\r\n");
  room.join();
  CHECK(*room.peer(0).got.back() == "* guest-3 joined\r\n");
  CHECK(*room.peer(1).got.back() == "* guest-3 joined\n");
  room.room.broadcast_shutdown();
  CHECK(*room.peer(0).got.back() == "* server shutting down\r\n");
  CHECK(*room.peer(2).got.back() == "* server shutting down\n");
}

TEST_CASE("ChatRoom::end_joins sends a CRLF member the batch's notices in CRLF") {
  RoomFixture room;
  room.join_quietly(2);
  room.room.set_crlf(room.id(0));
  {
    const dschat::JoinBatch batch(&room.room);
    room.join();
    room.join();
  }
  CHECK(*room.peer(0).got.back() == "* guest-3 joined\r\n* guest-4 joined\r\n");
  CHECK(*room.peer(1).got.back() == "* guest-3 joined\n* guest-4 joined\n");
}
