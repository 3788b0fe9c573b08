// libFuzzer target for ChatRoom (docs/protocol.md): the input is a script played against one room with six
// fake peers, one operation per line: "j<slot>" joins, "q<slot><reason>" leaves, "t<slot>" reports a line too
// long, "s" broadcasts the shutdown, and any other "<op><slot><text>" is a line from that slot (slot =
// byte % 6, so '0'..'5'). A first line "R" makes the room raw. After every operation each peer must have
// received exactly what a model of docs/protocol.md expects, every message must be one clean line, and the
// names must be valid and unique ignoring case.
//
// "[" and "]" open and close a join batch (begin_joins/end_joins) in a second room that plays the same
// script; the checked room ignores them. As the header promises, the batched room's byte stream to every
// member must be a prefix of the checked room's while a batch is open (only join notices held back) and
// equal to it whenever no batch is open; joins, leaves, lines and the shutdown may all come inside one.
// A member that leaves gets a prefix: the notices held back when it left are never sent to it (leave()
// comes after its connection has ended, so nothing could reach it anyway).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "checked_peer.hpp"
#include "core/chat_room.hpp"
#include "core/nick.hpp"
#include "reference.hpp"

namespace {

using dschat::ChatRoom;
using dschat::LineResult;
using dschat::fuzz::check;
using dschat::fuzz::reference_sanitize;
using Texts = std::vector<std::string>;

constexpr std::size_t slots = 6;

// docs/protocol.md's replies to the sender alone, written out here rather than taken from what the room sent.
constexpr std::string_view help_reply =
    "* commands: /nick NAME · /who · /me ACTION · /quit [REASON] · /help — //text sends /text";
constexpr std::string_view invalid_nick_reply = "! invalid name — 1–32 letters, digits, _ - .";
constexpr std::string_view mixed_scripts_reply =
    "! invalid name — it mixes scripts that look alike, such as Latin and Cyrillic";
constexpr std::size_t max_echoed_command = 32;  // an unknown command is echoed back cut to 32 bytes

// The first max bytes of text, fewer if that would split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return text.substr(0, end);
}

/// A ChatPeer that only keeps the byte stream it was sent.
struct StreamPeer final : dschat::ChatPeer {
  std::string stream;
  void send(const dschat::Message& msg) override { stream += *msg; }
};

// What the model knows about the member in one slot.
struct Slot {
  ChatRoom::MemberId id = 0;      // 0: no member
  ChatRoom::MemberId old_id = 0;  // the id of the member that left this slot last (0: none yet)
  std::uint64_t guest = 0;        // the N of its guest-N
  std::string name;
  std::string quit_reason;
  bool quit = false;
};

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

class Script {
 public:
  explicit Script(bool raw)
      : raw_(raw), room_(dschat::ChatRoomOptions{raw, 4096}), batched_(dschat::ChatRoomOptions{raw, 4096}) {}

  /// Closes a batch the script left open, as a JoinBatch going out of scope does, and checks the streams.
  void finish() {
    for (auto& p : peers_)
      p.got.clear();  // already in streams_
    if (batching_) {
      batched_.end_joins();
      batching_ = false;
    }
    check_streams("end of script");
  }

  /// Plays one script line and checks what every peer received.
  void play(std::string_view op) {
    for (auto& p : peers_)
      p.got.clear();
    want_ = {};
    const std::size_t s = op.size() > 1 ? static_cast<unsigned char>(op[1]) % slots : 0;
    const std::string_view arg = op.size() > 2 ? op.substr(2) : std::string_view{};
    switch (op.empty() ? 'l' : op[0]) {
      case '[':
        if (!batching_) batched_.begin_joins();  // calls do not nest
        batching_ = true;
        break;
      case ']':
        if (batching_) batched_.end_joins();
        batching_ = false;
        break;
      case 'j':
        join(s);
        break;
      case 'q':
        leave(s, arg);
        break;
      case 't':
        room_.on_too_long(id_of(s));
        batched_.on_too_long(batched_id_of(s));
        if (slots_[s].id != 0) want_[s] = {"! line too long (max 4096 bytes)"};
        break;
      case 's':
        room_.broadcast_shutdown();
        batched_.broadcast_shutdown();
        shutting_down_ = true;
        to_members(SIZE_MAX, "* server shutting down");
        break;
      default:
        line(s, arg);
        break;
    }
    for (std::size_t t = 0; t < slots; ++t) {
      if (peers_[t].got != want_[t]) {
        dschat::fuzz::fail("deliveries differ from the model",
                           std::string(op) + "  slot " + std::to_string(t) + " got " +
                               dschat::fuzz::bracketed(peers_[t].got) + "  expected " +
                               dschat::fuzz::bracketed(want_[t]));
      }
    }
    check_members();
    check_streams(op);
  }

 private:
  ChatRoom::MemberId id_of(std::size_t s) const {
    return slots_[s].id != 0 ? slots_[s].id : slots_[s].old_id;
  }

  ChatRoom::MemberId batched_id_of(std::size_t s) const {
    return batched_ids_[s] != 0 ? batched_ids_[s] : batched_old_ids_[s];
  }

  // The batched room's stream to each peer is the checked room's (what its peers got, in order) or, while
  // a batch is open, a prefix of it.
  void check_streams(std::string_view op) {
    for (std::size_t t = 0; t < slots; ++t) {
      for (const std::string& text : peers_[t].got)
        streams_[t].append(text).push_back('\n');
      std::string& got = batched_peers_[t].stream;
      const bool ok = batching_ || left_[t] ? streams_[t].starts_with(got) : got == streams_[t];
      if (!ok) {
        dschat::fuzz::fail(batching_ ? "a join batch sent what one join at a time does not"
                                     : "a join batch's bytes differ from one join at a time",
                           std::string(op) + "  slot " + std::to_string(t) + " batched " + got +
                               "  one at a time " + streams_[t]);
      }
      if (left_[t]) {  // the slot's next member starts both streams afresh
        got.clear();
        streams_[t].clear();
        left_[t] = false;
      }
    }
  }

  // Every member but the one in slot except gets text.
  void to_members(std::size_t except, const std::string& text) {
    for (std::size_t t = 0; t < slots; ++t) {
      if (t != except && slots_[t].id != 0) want_[t] = {text};
    }
  }

  void join(std::size_t s) {
    Slot& m = slots_[s];
    if (m.id != 0) return;
    m.id = room_.join(peers_[s]);
    batched_ids_[s] = batched_.join(batched_peers_[s]);
    check(m.id > last_id_, "join reused a member id");
    last_id_ = m.id;
    m.guest = ++guests_;
    m.name = "guest-" + std::to_string(m.guest);
    ++members_;
    if (raw_) return;
    to_members(s, "* " + m.name + " joined");
    want_[s] = {"* welcome " + m.name + " — " + std::to_string(members_) + " online — /help lists commands"};
  }

  void leave(std::size_t s, std::string_view reason) {
    Slot& m = slots_[s];
    room_.leave(id_of(s), reason);
    batched_.leave(batched_id_of(s), reason);
    if (batched_ids_[s] != 0) batched_old_ids_[s] = batched_ids_[s];
    batched_ids_[s] = 0;
    if (m.id == 0) return;
    left_[s] = true;
    std::string notice = "* " + m.name + " left";
    if (!reason.empty()) {
      notice += " (" + reference_sanitize(reason) + ")";
    } else if (!m.quit_reason.empty()) {
      notice += " (quit: " + m.quit_reason + ")";
    }
    m = Slot{0, m.id, 0, {}, {}, false};
    --members_;
    if (!raw_ && !shutting_down_) to_members(s, notice);
  }

  void line(std::size_t s, std::string_view text) {
    const LineResult result = room_.on_line(id_of(s), text);
    check(result == expect_line(s, text), "on_line's result differs from the model", text);
    check(batched_.on_line(batched_id_of(s), text) == result, "on_line's result differs in the batched room",
          text);
  }

  // Fills want_ for a line the member in slot s sent; returns the LineResult on_line must give.
  LineResult expect_line(std::size_t s, std::string_view text) {
    Slot& m = slots_[s];
    if (m.id == 0) return LineResult::keep_open;
    if (m.quit) return LineResult::close;
    if (shutting_down_) return LineResult::keep_open;  // the notice is the last thing anyone gets
    if (raw_) {
      to_members(s, reference_sanitize(text));
    } else if (!text.empty() && text[0] == '/' && !text.starts_with("//")) {
      return expect_command(s, text.substr(1));
    } else if (!text.empty()) {  // "//text" is the chat line "/text"
      to_members(s, "<" + m.name + "> " + reference_sanitize(text[0] == '/' ? text.substr(1) : text));
    }
    return LineResult::keep_open;
  }

  LineResult expect_command(std::size_t s, std::string_view line) {
    Slot& m = slots_[s];
    const std::size_t space = line.find_first_of(" \t");
    const std::string command = ascii_lower(line.substr(0, space));
    const std::string_view arg = space == std::string_view::npos ? "" : trim(line.substr(space));
    if (command == "quit") {
      m.quit = true;
      m.quit_reason = reference_sanitize(arg);
      return LineResult::close;
    }
    if (command == "me") {
      if (arg.empty()) {
        want_[s] = {"! usage: /me ACTION"};
      } else {
        to_members(s, "<" + m.name + "> *" + reference_sanitize(arg) + "*");
      }
    } else if (command == "who") {
      who(s, arg);
    } else if (command == "nick") {
      nick(s, arg);
    } else if (command == "help") {
      want_[s] = {std::string(help_reply)};
    } else {
      // The command as typed (not lowered), cut to 32 bytes, sanitized, cut again at a code point.
      const std::string typed = reference_sanitize(line.substr(0, std::min(space, max_echoed_command)));
      want_[s] = {"! unknown command /" + std::string(utf8_prefix(typed, max_echoed_command)) +
                  " — /help lists commands"};
    }
    return LineResult::keep_open;
  }

  // README "Names": a valid name that looks like no other member's (same fold) and like no guest name
  // but the member's own must be granted; any other gets the one error that explains it, to the sender
  // alone. A look-alike of a guest name is reserved even when it is also invalid (guеst-1, Cyrillic е).
  void nick(std::size_t s, std::string_view name) {
    Slot& m = slots_[s];
    if (name.empty()) {
      want_[s] = {"! usage: /nick NAME"};
      return;
    }
    const dschat::NickCheck check = dschat::check_nick(name);
    const std::string folded = check == dschat::NickCheck::invalid ? std::string() : dschat::fold_nick(name);
    if (!folded.empty() && dschat::is_guest_name(folded) &&
        folded != dschat::fold_nick("guest-" + std::to_string(m.guest))) {
      want_[s] = {"! reserved name: " + std::string(name) + " — guest-N names belong to newcomers"};
      return;
    }
    if (!folded.empty() && folded == dschat::fold_nick("server")) {
      want_[s] = {"! reserved name: " + std::string(name) + " — it would pass for the server"};
      return;
    }
    if (check == dschat::NickCheck::invalid) {
      want_[s] = {std::string(invalid_nick_reply)};
      return;
    }
    if (check == dschat::NickCheck::mixed_scripts) {
      want_[s] = {std::string(mixed_scripts_reply)};
      return;
    }
    if (name == m.name) {
      want_[s] = {"! you are already " + std::string(name)};
      return;
    }
    for (const Slot& o : slots_) {
      if (&o == &m || o.id == 0 || dschat::fold_nick(o.name) != folded) continue;
      // A valid name is printable: it comes back as typed, with the name it resembles unless only the
      // case differs.
      want_[s] = {"! name taken: " + std::string(name) +
                  (dschat::same_ignoring_case(name, o.name) ? "" : " looks like " + o.name)};
      return;
    }
    const std::string changed = "* " + m.name + " is now " + std::string(name);
    to_members(s, changed);
    want_[s] = {changed};
    m.name = name;
  }

  // README "/who": the members in join order (never more than one page of 50 here); /who 1 is that page,
  // any other number no page at all; /who NAME says whether someone who looks like NAME is online.
  void who(std::size_t s, std::string_view arg) {
    const bool number = !arg.empty() && arg.find_first_not_of("0123456789") == std::string_view::npos;
    // Page numbers longer than nine digits are past the last page, whatever their value.
    if (arg.empty() || (number && arg.size() <= 9 && std::stoul(std::string(arg)) == 1)) {
      std::string who;
      for (const Slot* o : by_join_order())
        who.append(who.empty() ? "" : ", ").append(o->name);
      want_[s] = {"* " + std::to_string(members_) + " online: " + who};
    } else if (number) {
      want_[s] = {"! no page " + std::string(arg.substr(0, 9)) + " — " + std::to_string(members_) +
                  " online, /who 1 to /who 1"};
    } else {
      const bool valid = dschat::check_nick(arg) != dschat::NickCheck::invalid;
      for (const Slot& o : slots_) {
        if (valid && o.id != 0 && dschat::fold_nick(o.name) == dschat::fold_nick(arg)) {
          want_[s] = {"* " + o.name + " is online"};
          return;
        }
      }
      // Shown sanitized, cut to 128 bytes before and after sanitizing (at a code point).
      const std::string shown = reference_sanitize(arg.substr(0, 128));
      want_[s] = {"! " + std::string(utf8_prefix(shown, 128)) + " is not online"};
    }
  }

  std::vector<const Slot*> by_join_order() const {
    std::vector<const Slot*> order;
    for (const Slot& m : slots_) {
      if (m.id != 0) order.push_back(&m);
    }
    std::sort(order.begin(), order.end(), [](const Slot* a, const Slot* b) { return a->id < b->id; });
    return order;
  }

  void check_members() const {
    check(room_.size() == members_, "size() differs from the number of members");
    std::vector<std::string> folded;
    std::vector<std::string> lowered;
    for (const Slot& m : slots_) {
      if (m.id == 0) {
        check(room_.name(m.old_id).empty(), "a member that left still has a name");
        continue;
      }
      check(room_.name(m.id) == m.name, "name() differs from the model", room_.name(m.id));
      check(m.name == "guest-" + std::to_string(m.guest) || dschat::is_valid_nick(m.name), "invalid name",
            m.name);
      folded.push_back(dschat::fold_nick(m.name));
      lowered.push_back(ascii_lower(m.name));
    }
    std::sort(folded.begin(), folded.end());
    std::sort(lowered.begin(), lowered.end());
    check(std::adjacent_find(folded.begin(), folded.end()) == folded.end(), "two names fold alike");
    check(std::adjacent_find(lowered.begin(), lowered.end()) == lowered.end(),
          "two names equal ignoring case");
  }

  bool raw_;
  std::array<dschat::fuzz::CheckedPeer, slots> peers_;  // before room_: the room points at them
  ChatRoom room_;
  std::array<Slot, slots> slots_;
  std::array<Texts, slots> want_;
  ChatRoom::MemberId last_id_ = 0;
  std::uint64_t guests_ = 0;
  std::size_t members_ = 0;
  bool shutting_down_ = false;

  // The same script in a room that batches joins between "[" and "]".
  std::array<StreamPeer, slots> batched_peers_;  // before batched_: the room points at them
  ChatRoom batched_;
  std::array<ChatRoom::MemberId, slots> batched_ids_{};
  std::array<ChatRoom::MemberId, slots> batched_old_ids_{};
  std::array<std::string, slots> streams_;  // everything the checked room sent each slot's member
  std::array<bool, slots> left_{};          // the slot's member left during this operation
  bool batching_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view script(reinterpret_cast<const char*>(data), size);
  const bool raw = script == "R" || script.starts_with("R\n");
  if (raw) script.remove_prefix(std::min<std::size_t>(2, script.size()));
  Script room(raw);
  while (!script.empty()) {
    const std::size_t lf = script.find('\n');
    room.play(script.substr(0, lf));
    script.remove_prefix(lf == std::string_view::npos ? script.size() : lf + 1);
  }
  room.finish();
  return 0;
}
