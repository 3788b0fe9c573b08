// The ChatRoom members behind the chat commands (docs/protocol.md), kept apart from membership and fan-out
// (chat_room.cpp) so each file stays one job.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/chat_room.hpp"
#include "core/nick.hpp"
#include "core/protocol.hpp"
#include "core/relay_envelope.hpp"
#include "core/sanitize.hpp"

namespace dschat {
namespace {

constexpr std::string_view invalid_nick = "! invalid name — 1–32 letters, digits, _ - .";
constexpr std::string_view mixed_scripts =
    "! invalid name — it mixes scripts that look alike, such as Latin and Cyrillic";

// Longest command name echoed back in "unknown command": the reply stays short whatever was typed.
constexpr std::size_t max_echoed_command = 32;

// Names per /who reply. The whole list of a room of 5,000 is ~60 KB for a 5-byte command: one member
// could make the server write 12,000 times what it reads. A page keeps every reply within a few KiB.
constexpr std::size_t who_page = 50;

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

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
    who(member, arg);
  } else if (is_command(command, "me")) {
    if (arg.empty()) {
      send_to(member, "! usage: /me ACTION");
    } else {
      relay(member, arg, "*");  // "<alice> *waves*": an action is the member's line, never a notice
    }
  } else if (is_command(command, "quit")) {
    member.quit = true;
    member.quit_reason = sanitize(arg);
    return LineResult::close;
  } else if (is_command(command, "help")) {
    send_to(member, help_);
  } else if (is_command(command, "pass")) {
    send_to(member, "! you are in the room already");  // a client that sends its password on every connect
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
  // In a cluster a guest name is guest-N@NODE, which no /nick can spell: guest-N would be another's.
  const bool own_guest = relay_ == nullptr && key == guest_key(member.guest);
  if (!key.empty() && is_guest_name(key) && !own_guest) {
    scratch_.assign("! reserved name: ").append(name).append(" — guest-N names belong to newcomers");
    return send_to(member, scratch_);
  }
  if (!key.empty() && is_server_name(key)) {
    scratch_.assign("! reserved name: ").append(name).append(" — it would pass for the server");
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
  if (relay_ != nullptr && !relay_->claim(member.guest, name)) {
    scratch_.assign("! name taken: ").append(name).append(" (on another server)");
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

void ChatRoom::who(Member& member, std::string_view arg) {
  if (!arg.empty() && !all_digits(arg)) return who_is(member, arg);
  if (relay_ != nullptr) return who_cluster(member, arg);
  const std::size_t count = members_.size();
  const std::size_t pages = (count + who_page - 1) / who_page;
  // Nine digits: any page past the last is refused the same way, without overflow.
  const std::size_t page = arg.empty() ? 1 : arg.size() > 9 ? pages + 1 : std::stoul(std::string(arg));
  if (page == 0 || page > pages) {
    scratch_.assign("! no page ").append(cut_utf8(arg, 9)).append(" — ").append(std::to_string(count));
    scratch_.append(" online, /who 1 to /who ").append(std::to_string(pages));
    return send_to(member, scratch_);
  }
  // members_ is reordered by swap-and-pop; ids grow with every join, so sorting by id gives join order.
  std::vector<const Member*> order;
  order.reserve(count);
  for (const Member& m : members_)
    order.push_back(&m);
  const auto first = order.begin() + static_cast<std::ptrdiff_t>((page - 1) * who_page);
  const auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(page * who_page, count));
  const auto by_id = [](const Member* a, const Member* b) { return a->id < b->id; };
  std::nth_element(order.begin(), first, order.end(), by_id);  // only the page is sorted
  std::partial_sort(first, last, order.end(), by_id);

  scratch_.assign("* ").append(std::to_string(count)).append(" online");
  if (pages > 1)
    scratch_.append(", page ").append(std::to_string(page)).append(" of ").append(std::to_string(pages));
  scratch_.append(": ");
  for (auto it = first; it != last; ++it) {
    if (it != first) scratch_.append(", ");
    scratch_.append((*it)->name);
  }
  if (page < pages) scratch_.append(" — /who ").append(std::to_string(page + 1)).append(" for more");
  send_to(member, scratch_);
}

void ChatRoom::who_cluster(Member& member, std::string_view arg) {
  const RelayWho who = relay_->who();
  const std::size_t count = who.names.size();
  const std::size_t pages = std::max<std::size_t>(1, (count + who_page - 1) / who_page);
  const std::size_t page = arg.empty() ? 1 : arg.size() > 9 ? pages + 1 : std::stoul(std::string(arg));
  if (page == 0 || page > pages) {
    scratch_.assign("! no page ").append(cut_utf8(arg, 9)).append(" — ").append(std::to_string(count));
    scratch_.append(" online, /who 1 to /who ").append(std::to_string(pages));
    return send_to(member, scratch_);
  }
  scratch_.assign("* ").append(std::to_string(count)).append(" online (");
  scratch_.append(std::to_string(who.here)).append(" here)");
  if (pages > 1)
    scratch_.append(", page ").append(std::to_string(page)).append(" of ").append(std::to_string(pages));
  scratch_.append(": ");
  const std::size_t last = std::min(page * who_page, count);
  for (std::size_t i = (page - 1) * who_page; i < last; ++i) {
    if (i != (page - 1) * who_page) scratch_.append(", ");
    scratch_.append(who.names[i]);
  }
  if (page < pages) scratch_.append(" — /who ").append(std::to_string(page + 1)).append(" for more");
  send_to(member, scratch_);
}

void ChatRoom::who_is(Member& member, std::string_view name) {
  const bool nickname = check_nick(name) != NickCheck::invalid;
  const auto holder = nickname ? by_name_.find(fold_nick(name)) : by_name_.end();
  std::string remote;
  if (holder == by_name_.end() && relay_ != nullptr) {
    // The cluster's view: every server's members, known by their nicknames or as guest-N@NODE.
    const auto at = name.rfind('@');
    const bool guest = at != std::string_view::npos && check_nick(name.substr(0, at)) != NickCheck::invalid &&
                       is_valid_node_name(name.substr(at + 1));
    if (nickname || guest) remote = relay_->holder(name);
  }
  if (holder != by_name_.end()) {
    scratch_.assign("* ").append(this->name(holder->second)).append(" is online");
  } else if (!remote.empty()) {
    scratch_.assign("* ").append(remote).append(" is online");
  } else {
    const std::string shown = sanitize(name.substr(0, 4 * max_nick_chars));
    scratch_.assign("! ").append(cut_utf8(shown, 4 * max_nick_chars)).append(" is not online");
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
