// The ChatRoom members that show what other servers of a cluster send (docs/cluster.md), kept apart from
// membership and fan-out (chat_room.cpp) and the commands (chat_commands.cpp).

#include <algorithm>
#include <string>

#include "core/chat_room.hpp"
#include "core/nick.hpp"

namespace dschat {
namespace {

std::string_view why_left(NodeLeft why) noexcept {
  switch (why) {
    case NodeLeft::unreachable:
      return " unreachable)";
    case NodeLeft::shutting_down:
      return " shutting down)";
    case NodeLeft::restarted:
      return " restarted)";
    case NodeLeft::resync:
      break;
  }
  return ")";
}

}  // namespace

ChatRoom::Member* ChatRoom::find_guest(std::uint64_t guest) {
  const auto it =
      std::find_if(members_.begin(), members_.end(), [guest](const Member& m) { return m.guest == guest; });
  return it == members_.end() ? nullptr : &*it;
}

void ChatRoom::relay_notice(std::string_view text) {
  if (options_.raw || shutting_down_) return;
  send_all(make_message(text));
}

void ChatRoom::remote(const RelayEffect& effect) {
  if (shutting_down_) return;
  using Kind = RelayEffect::Kind;
  if (options_.raw) {
    // A raw room carries lines only: no names, no notices.
    if (effect.kind == Kind::chat) send_all(make_message(effect.text));
    return;
  }
  switch (effect.kind) {
    case Kind::chat:
      scratch_.assign("<").append(effect.name).append("> ").append(effect.text);
      break;
    case Kind::me:
      scratch_.assign("<").append(effect.name).append("> *").append(effect.text).append("*");
      break;
    case Kind::join:
      scratch_.assign("* ").append(effect.name).append(" joined");
      break;
    case Kind::leave:
      scratch_.assign("* ").append(effect.name).append(" left");
      if (!effect.text.empty()) scratch_.append(" (").append(effect.text).append(")");
      break;
    case Kind::nick:
      scratch_.assign("* ").append(effect.name).append(" is now ").append(effect.new_name);
      break;
    case Kind::bulk_join: {
      const auto was = std::find(unreachable_.begin(), unreachable_.end(), effect.node);
      const bool back = was != unreachable_.end();
      if (back) unreachable_.erase(was);
      scratch_.assign("* ").append(std::to_string(effect.count));
      scratch_.append(back ? " are back (server " : " joined (server ").append(effect.node).append(")");
      break;
    }
    case Kind::bulk_leave:
      if (effect.why == NodeLeft::unreachable &&
          std::find(unreachable_.begin(), unreachable_.end(), effect.node) == unreachable_.end()) {
        unreachable_.push_back(effect.node);
      }
      scratch_.assign("* ").append(std::to_string(effect.count)).append(" left (server ");
      scratch_.append(effect.node).append(why_left(effect.why));
      break;
    case Kind::renamed: {
      Member* member = find_guest(effect.id);
      if (member == nullptr) return;
      // Its own guest name is its alone, so the rename cannot collide here either.
      by_name_.erase(member->key);
      member->key = guest_key(member->guest);
      by_name_.emplace(member->key, member->id);
      member->name = effect.new_name;
      scratch_.assign("* ").append(effect.name).append(" is taken on server ").append(effect.node);
      scratch_.append(" — you are ").append(effect.new_name).append(" again");
      send_to(*member, scratch_);
      scratch_.assign("* ").append(effect.name).append(" is now ").append(effect.new_name);
      send_others(*member, make_message(scratch_));
      return;
    }
    case Kind::lost:
      // Sequence numbers count every event of a server: a gap cannot tell lines from joins, leaves and
      // name changes, so the notice does not claim they were all lines.
      scratch_.assign("* ").append(std::to_string(effect.count));
      scratch_.append(effect.count == 1 ? " line or membership change from server "
                                        : " lines or membership changes from server ");
      scratch_.append(effect.node).append(effect.count == 1 ? " was lost" : " were lost");
      break;
  }
  send_all(make_message(scratch_));
}

}  // namespace dschat
