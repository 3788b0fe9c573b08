#include "core/chat_room.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <utility>

#include "core/nick.hpp"
#include "core/protocol.hpp"
#include "core/sanitize.hpp"

namespace dschat {
namespace {

constexpr std::string_view help_text =
    "* commands: /nick NAME · /who · /me ACTION · /quit [REASON] · /help — //text sends /text";

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

}  // namespace

ChatRoom::ChatRoom(ChatRoomOptions options)
    : options_(options),
      help_(make_message(help_text)),
      too_long_(make_message(too_long_reply(options.max_line))),
      shutting_down_msg_(make_message(protocol::shutting_down)) {}

ChatRoom::Member* ChatRoom::find(MemberId id) {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &members_[it->second];
}

const ChatRoom::Member* ChatRoom::find(MemberId id) const {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &members_[it->second];
}

void ChatRoom::send_to(Member& member, std::string_view text) {
  send_to(member, make_message(text));
}

void ChatRoom::send_to(Member& member, const Message& msg) {
  release_joins();
  Message crlf;
  member.peer->send(member.crlf ? with_crlf(msg, crlf) : msg);
}

void ChatRoom::send_others(const Member& from, const Message& msg) {
  send_where(msg, from.id, no_member_after);
}

void ChatRoom::send_where(const Message& msg, MemberId skip, MemberId below) {
  release_joins();
  Message crlf;  // made at most once, and only when some member needs it
  for (Member& m : members_) {
    if (m.id != skip && m.id < below) m.peer->send(m.crlf ? with_crlf(msg, crlf) : msg);
  }
}

void ChatRoom::send_all(const Message& msg) {
  send_where(msg, 0, no_member_after);
}

void ChatRoom::set_crlf(MemberId id) {
  if (Member* member = find(id)) member->crlf = true;
}

void ChatRoom::tell(MemberId id, std::string_view text) {
  if (Member* member = find(id)) send_to(*member, text);
}

ChatRoom::MemberId ChatRoom::join(ChatPeer& peer) {
  const MemberId id = next_id_++;
  const std::uint64_t guest = next_guest_++;
  std::string name = relay_ != nullptr ? relay_->guest_name(guest) : guest_name(guest);
  std::string key = guest_key(guest);
  members_.push_back(Member{id, &peer, std::move(name), std::move(key), guest, {}, false});
  // Roll back on allocation failure so members_ and the two indexes never disagree.
  try {
    index_.emplace(id, members_.size() - 1);
    by_name_.emplace(members_.back().key, id);
  } catch (...) {
    index_.erase(id);
    members_.pop_back();
    throw;
  }
  if (options_.raw) {
    if (relay_ != nullptr) relay_->joined(guest);  // raw rooms relay lines, which need a known sender
    return id;
  }

  Member& member = members_.back();
  scratch_.assign("* welcome ").append(member.name).append(" — ");
  std::size_t online = members_.size();
  if (relay_ != nullptr) {
    const RelayWho who = relay_->who();
    online += who.total - who.here;  // the other servers' members
  }
  scratch_.append(std::to_string(online)).append(" online — /help lists commands");
  // Straight to the newcomer, not through send_to(): held notices are all about members who came before
  // it or after it, never owed to it before its welcome.
  member.peer->send(make_message(scratch_));
  if (options_.announce_after > RoomClock::duration::zero()) {
    member.announced = false;
    unannounced_.emplace_back(id, now_);
    return id;
  }
  announce_join(member);
  return id;
}

void ChatRoom::announce_join(Member& member) {
  member.announced = true;
  // Only announced members exist for the other servers: one that comes and goes costs them nothing.
  if (relay_ != nullptr) relay_->joined(member.guest);
  if (counted_for_summary(summary_joined_)) return;
  // A batch holds the newest members' notices only: one announced late goes out on its own.
  if (joining_ && options_.announce_after == RoomClock::duration::zero()) {
    if (join_ends_.empty()) first_joiner_ = member.id;
    join_notices_.append("* ").append(member.name).append(" joined\n");
    join_ends_.push_back(join_notices_.size());
    return;
  }
  // Only those who were there before it: the ones who came since counted it in their welcome.
  scratch_.assign("* ").append(member.name).append(" joined");
  send_where(make_message(scratch_), member.id, member.id);
}

bool ChatRoom::counted_for_summary(std::size_t& counter) {
  if (options_.big_room == 0 || members_.size() <= options_.big_room) return false;
  if (summary_joined_ == 0 && summary_left_ == 0) summary_since_ = now_;
  ++counter;
  return true;
}

void ChatRoom::tick(RoomClock::time_point now) {
  // Members who joined before the room's first tick count their second from it.
  if (now_ == RoomClock::time_point{}) {
    for (auto& pending : unannounced_)
      pending.second = now;
  }
  now_ = now;
  if (shutting_down_ || options_.raw) return;
  // Newcomers are announced in order of joining; those that spoke or left already are skipped.
  while (!unannounced_.empty() && now - unannounced_.front().second >= options_.announce_after) {
    Member* member = find(unannounced_.front().first);
    unannounced_.pop_front();
    if (member != nullptr && !member->announced) announce_join(*member);
  }
  if ((summary_joined_ != 0 || summary_left_ != 0) && now - summary_since_ >= options_.summary_every) {
    send_summary();
  }
}

void ChatRoom::send_summary() {
  scratch_.assign("* ");
  if (summary_joined_ != 0) scratch_.append(format_count(summary_joined_)).append(" joined");
  if (summary_joined_ != 0 && summary_left_ != 0) scratch_.append(", ");
  if (summary_left_ != 0) scratch_.append(format_count(summary_left_)).append(" left");
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.summary_every).count();
  scratch_.append(" in the last ").append(std::to_string(seconds)).append(" s — ");
  scratch_.append(format_count(members_.size())).append(" online");
  summary_joined_ = 0;
  summary_left_ = 0;
  send_all(make_message(scratch_));
}

void ChatRoom::begin_joins() noexcept {
  joining_ = true;
}

void ChatRoom::end_joins() noexcept {
  joining_ = false;
  release_joins();
}

void ChatRoom::release_joins() noexcept {
  if (join_ends_.empty()) return;
  try {
    const Message all = std::make_shared<const std::string>(std::move(join_notices_));
    Message all_crlf;
    for (Member& m : members_) {
      if (m.id < first_joiner_) {
        m.peer->send(m.crlf ? with_crlf(all, all_crlf) : all);
        continue;
      }
      // A newcomer hears of those who came after it, as it would have one join at a time. (It has sent
      // no line yet, so it is no CRLF client yet.)
      const std::size_t own_end = join_ends_.at(static_cast<std::size_t>(m.id - first_joiner_));
      if (own_end < all->size()) m.peer->send(std::make_shared<const std::string>(all->substr(own_end)));
    }
  } catch (const std::exception&) {
    // Out of memory formatting the notices: the members are in either way, only the notices are lost.
  }
  join_notices_.clear();
  join_ends_.clear();
}

void ChatRoom::leave(MemberId id, std::string_view reason) {
  const auto it = index_.find(id);
  if (it == index_.end()) return;
  const std::size_t pos = it->second;

  Message notice;
  // A newcomer that leaves before it was announced leaves unannounced too; in a big room, it is counted.
  const Member& leaving = members_[pos];
  if (!options_.raw && !shutting_down_ && leaving.announced && !counted_for_summary(summary_left_)) {
    const Member& m = leaving;
    scratch_.assign("* ").append(m.name).append(" left");
    if (!reason.empty()) {
      scratch_.append(" (");
      sanitize_append(scratch_, reason);
      scratch_.push_back(')');
    } else if (!m.quit_reason.empty()) {
      // The member's own words are marked as such, so no reason can pass for one the server gives
      // ("connection reset", "too slow: …"): IRC marks them "Quit: " for the same reason.
      scratch_.append(" (quit: ").append(m.quit_reason).push_back(')');
    }
    notice = make_message(scratch_);
  }
  if (relay_ != nullptr && !shutting_down_ && leaving.announced) {
    // The other servers show the reason as this one does.
    relay_->left(leaving.guest, !reason.empty()                ? sanitize(reason)
                                : !leaving.quit_reason.empty() ? "quit: " + leaving.quit_reason
                                                               : std::string());
  }

  // Swap-and-pop keeps removal O(1); the member moved into the hole gets its index fixed.
  by_name_.erase(members_[pos].key);
  index_.erase(it);
  if (pos + 1 != members_.size()) {
    members_[pos] = std::move(members_.back());
    index_[members_[pos].id] = pos;
  }
  members_.pop_back();

  // Sent only after removal, so the leaving member's peer is never called again.
  if (notice) send_all(notice);
}

LineResult ChatRoom::on_line(MemberId id, std::string_view line) {
  Member* member = find(id);
  // Unknown ids are members already gone; lines after /quit are the rest of a chunk the caller is dropping.
  if (member == nullptr) return LineResult::keep_open;
  if (member->quit) return LineResult::close;
  // Members told the server is going must not get chat after it, from lines a reader had already taken in.
  if (shutting_down_) return LineResult::keep_open;

  if (options_.raw) {
    if (is_clean(line)) {
      send_others(*member, make_message(line));
    } else {
      scratch_.clear();
      sanitize_append(scratch_, line);
      send_others(*member, make_message(scratch_));
      line = scratch_;
    }
    if (relay_ != nullptr) relay_->said(member->guest, line);
    return LineResult::keep_open;
  }

  if (line.empty()) return LineResult::keep_open;
  // A newcomer that speaks is announced first: the others learn who it is before they read it.
  if (!member->announced) announce_join(*member);
  if (line.front() == '/') {
    line.remove_prefix(1);
    if (line.empty() || line.front() != '/') {
      const std::size_t space = line.find_first_of(protocol::command_separators);
      const std::string_view command = line.substr(0, space);
      const std::string_view arg = space == std::string_view::npos ? "" : trim(line.substr(space));
      return handle_command(*member, command, arg);
    }
    // "//text": the first slash only escapes the second, the rest is an ordinary chat line.
  }
  relay(*member, line, "");
  return LineResult::keep_open;
}

void ChatRoom::relay(const Member& from, std::string_view text, std::string_view around) {
  // Every line that carries a member's text starts with the member's name in angle brackets, which only
  // the server writes: no text can take the form of a notice (docs/protocol.md, "Who wrote a line").
  scratch_.assign("<").append(from.name).append("> ").append(around);
  const std::size_t start = scratch_.size();
  sanitize_append(scratch_, text);
  const std::size_t end = scratch_.size();
  scratch_.append(around);
  const Message line = make_message(scratch_);
  send_others(from, line);
  if (relay_ != nullptr) {
    const std::string_view clean = std::string_view(*line).substr(start, end - start);
    if (around.empty()) {
      relay_->said(from.guest, clean);
    } else {
      relay_->acted(from.guest, clean);
    }
  }
}

void ChatRoom::on_too_long(MemberId id) {
  if (Member* member = find(id)) send_to(*member, too_long_);
}

void ChatRoom::broadcast_shutdown() {
  shutting_down_ = true;
  send_all(shutting_down_msg_);
}

std::string_view ChatRoom::name(MemberId id) const {
  const Member* member = find(id);
  return member == nullptr ? std::string_view{} : std::string_view{member->name};
}

}  // namespace dschat
