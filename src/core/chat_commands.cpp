// The ChatRoom members behind the chat commands (DESIGN §2), kept apart from membership and fan-out
// (chat_room.cpp) so each file stays one job.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/chat_room.hpp"
#include "core/nick.hpp"
#include "core/protocol.hpp"
#include "core/sanitize.hpp"

namespace dschat {
namespace {

constexpr std::string_view invalid_nick = "! invalid name — 1–32 letters, digits, _ - .";
constexpr std::string_view mixed_scripts =
    "! invalid name — it mixes scripts that look alike, such as Latin and Cyrillic";

// Longest command name echoed back in "unknown command": the reply stays short whatever was typed.
constexpr std::size_t max_echoed_command = 32;

// Cuts a sanitized (hence valid UTF-8) text to at most max bytes without splitting a code point.
std::string_view cut_utf8(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
    --end;
  return s.substr(0, end);
}

}  // namespace

LineResult ChatRoom::handle_command(Member& member, std::string_view command, std::string_view arg) {
  if (is_command(command, "nick")) {
    nick(member, arg);
  } else if (is_command(command, "who")) {
    who(member);
  } else if (is_command(command, "me")) {
    if (arg.empty()) {
      send_to(member, "! usage: /me ACTION");
    } else {
      relay(member, "* ", " ", arg);
    }
  } else if (is_command(command, "quit")) {
    member.quit = true;
    member.quit_reason = sanitize(arg);
    return LineResult::close;
  } else if (is_command(command, "help")) {
    send_to(member, help_);
  } else {
    unknown_command(member, command);
  }
  return LineResult::keep_open;
}

void ChatRoom::nick(Member& member, std::string_view name) {
  if (name.empty()) return send_to(member, "! usage: /nick NAME");
  const NickCheck check = check_nick(name);
  // A name that folds like a guest name is refused as reserved even when it is also invalid
  // (guеst-1 with a Cyrillic е): that is the reply that explains it.
  std::string key = check == NickCheck::invalid ? std::string() : fold_nick(name);
  const bool own_guest = key == guest_key(member.guest);
  if (!key.empty() && is_guest_name(key) && !own_guest) {
    scratch_.assign("! reserved name: ").append(name).append(" — guest-N names belong to newcomers");
    return send_to(member, scratch_);
  }
  if (check == NickCheck::invalid) return send_to(member, invalid_nick);
  if (check == NickCheck::mixed_scripts) return send_to(member, mixed_scripts);
  if (name == member.name) {
    scratch_.assign("! you are already ").append(name);
    return send_to(member, scratch_);
  }

  const auto holder = by_name_.find(key);
  if (holder != by_name_.end() && holder->second != member.id) {
    scratch_.assign("! name taken: ").append(name);
    const std::string_view held = this->name(holder->second);
    if (!same_ignoring_case(name, held)) scratch_.append(" looks like ").append(held);
    return send_to(member, scratch_);
  }

  scratch_.assign("* ").append(member.name).append(" is now ").append(name);
  if (key != member.key) {
    by_name_.emplace(key, member.id);
    by_name_.erase(member.key);
    member.key = std::move(key);
  }
  member.name.assign(name);
  send_all(make_message(scratch_));
}

void ChatRoom::who(Member& member) {
  // members_ is reordered by swap-and-pop; ids grow with every join, so sorting by id gives join order.
  std::vector<const Member*> order;
  order.reserve(members_.size());
  for (const Member& m : members_)
    order.push_back(&m);
  std::sort(order.begin(), order.end(), [](const Member* a, const Member* b) { return a->id < b->id; });

  scratch_.assign("* ").append(std::to_string(order.size())).append(" online: ");
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0) scratch_.append(", ");
    scratch_.append(order[i]->name);
  }
  send_to(member, scratch_);
}

void ChatRoom::unknown_command(Member& member, std::string_view command) {
  // Cut before sanitizing so a huge typo costs little, and after it because escapes make text longer.
  const std::string shown = sanitize(command.substr(0, max_echoed_command));
  scratch_.assign("! unknown command /").append(cut_utf8(shown, max_echoed_command));
  scratch_.append(" — /help lists commands");
  send_to(member, scratch_);
}

}  // namespace dschat
