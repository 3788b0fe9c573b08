#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "core/chat_room.hpp"
#include "fake_peer.hpp"

namespace dschat::test {

/// A chat room with fake peers; peer(i) is the i-th member that joined (0-based).
struct RoomFixture {
  ChatRoom room;
  std::deque<FakePeer> peers;  // a deque keeps addresses stable for the room
  std::vector<ChatRoom::MemberId> ids;

  explicit RoomFixture(ChatRoomOptions options = {}) : room(options) {}

  /// Joins one more member and returns its id.
  ChatRoom::MemberId join() {
    peers.emplace_back();
    ids.push_back(room.join(peers.back()));
    return ids.back();
  }

  /// Joins n members and forgets the welcome and joined lines.
  void join_quietly(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      join();
    clear_all();
  }

  FakePeer& peer(std::size_t i) { return peers.at(i); }
  ChatRoom::MemberId id(std::size_t i) const { return ids.at(i); }

  /// Total number of messages all peers received.
  std::size_t total() const {
    std::size_t n = 0;
    for (const FakePeer& p : peers)
      n += p.got.size();
    return n;
  }

  void clear_all() {
    for (FakePeer& p : peers)
      p.clear();
  }
};

}  // namespace dschat::test
