#pragma once

#include <string>
#include <vector>

#include "core/chat_room.hpp"

namespace dschat::test {

/// A ChatPeer that records what the room sent it.
struct FakePeer : ChatPeer {
  std::vector<Message> got;

  void send(const Message& msg) override { got.push_back(msg); }

  /// The texts received, each without its line ending (which is checked to be there).
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const Message& msg : got) {
      if (msg->empty() || msg->back() != '\n') {
        out.push_back("<missing line ending: " + *msg + ">");
      } else {
        out.push_back(msg->substr(0, msg->size() - 1));
      }
    }
    return out;
  }

  /// The last text received, or "<nothing>".
  std::string last() const {
    const auto all = texts();
    return all.empty() ? std::string("<nothing>") : all.back();
  }

  /// Forgets what was received.
  void clear() { got.clear(); }
};

}  // namespace dschat::test
