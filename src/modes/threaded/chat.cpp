// The chat service of the threaded server: the client's thread reads lines and hands them to the shared
// room under its lock; the room queues what it sends in the members' outputs, and after the lock the
// combining flush writes them through (SharedRoom). What a socket does not take, the member's own writer
// thread sends.

#include "modes/threaded/chat.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/protocol.hpp"
#include "net/endpoint.hpp"
#include "net/line_reader.hpp"

namespace dschat::threaded {

namespace {

// How long a leaving client's queued output may take to go out before the connection is cut.
constexpr std::chrono::seconds flush_timeout{2};

// Most lines handled per acquisition of the room's lock, so that one busy client cannot hold it long.
constexpr std::size_t max_batch = 64;

/// A chat line kept for the -v log until the room's lock is released.
struct SaidLine {
  std::string speaker;
  std::string text;
};

}  // namespace

ChatMember::ChatMember(Connection& connection, SharedRoom& room, std::size_t max_queue)
    : room_(room), output_(std::make_shared<ChatOutput>(connection, max_queue)) {}

ChatMember::~ChatMember() {
  leave({});
  output_->cancel();  // after finish() a no-op; otherwise the writer must stop before the connection goes
}

void ChatMember::leave(std::string_view reason) {
  if (!joined_ || std::exchange(left_, true)) return;
  name_ = room_.leave(id_, reason);
}

void ChatMember::join_together(SharedRoom& room, std::span<ChatMember* const> members) {
  std::vector<std::shared_ptr<ChatOutput>> outputs;
  outputs.reserve(members.size());
  for (const ChatMember* member : members)
    outputs.push_back(member->output_);
  const auto seated = room.join_together(outputs);
  for (std::size_t i = 0; i < members.size(); ++i) {
    members[i]->id_ = seated[i].id;
    members[i]->name_ = seated[i].name;
    members[i]->joined_ = true;
  }
}

void serve_chat_client(Connection& connection, ChatMember& member, SharedRoom& room,
                       const ServeOptions& options, const ConnectionLog& log) {
  const auto started = std::chrono::steady_clock::now();
  ConnectionStats stats;
  stats.peer = connection.peer();

  ChatOutput& output = member.output();
  log.connected(stats.peer, member.name());

  // Telnet answers are the client's alone: queued in its output like a reply, never through the room.
  std::uint64_t telnet_replies = 0;  // not lines: not counted as lines out
  LineReader reader(connection.socket(), options.max_line, [&](std::string_view bytes) {
    output.send(make_raw_message(bytes));
    output.flush();
    ++telnet_replies;
  });
  FloodLimit bucket(flood_budget(options), started);
  bool crlf = false;
  bool told_to_slow_down = false;
  std::string pacing_to_log;  // the notice just told, logged after the room's lock
  const bool verbose = log.logger().should_log(spdlog::level::debug);
  std::vector<SaidLine> said;  // copied under the lock, logged after it: stderr must not stall the room
  std::error_code error;
  for (;;) {
    auto line = reader.next(error);
    if (!line) break;
    connection.heard();
    bool over_rate = false;
    // Lines that arrived together are handled under one acquisition of the room's lock: with many busy
    // clients, taking it once per line is what makes their threads queue up on it.
    const LineResult result = room.locked([&](ChatRoom& chat) {
      LineResult last = LineResult::keep_open;
      for (std::size_t handled = 1;; ++handled) {
        ++stats.lines_in;
        if (!crlf && reader.crlf()) {
          crlf = true;
          chat.set_crlf(member.id());
        }
        const std::size_t bytes = line->text.size() + 1;  // taken before the text may move into `said`
        if (line->kind == FrameKind::too_long) {
          chat.on_too_long(member.id());
        } else {
          if (verbose) said.push_back(SaidLine{std::string(chat.name(member.id())), std::move(line->text)});
          last = chat.on_line(member.id(), verbose ? said.back().text : line->text);
        }
        over_rate = take_token(bucket, bytes);
        if (over_rate && !told_to_slow_down && last != LineResult::close) {
          told_to_slow_down = true;
          pacing_to_log = pacing_notice(bucket, options, FloodLimit::Clock::now());
          chat.tell(member.id(), pacing_to_log);
        }
        if (last == LineResult::close || over_rate || handled == max_batch || !reader.has_ready())
          return last;
        line = reader.next(error);  // has_ready(): returns at once
      }
    });
    room.flush_queued();
    for (const auto& [speaker, text] : said)
      log.chat_line(speaker, text);
    said.clear();
    if (result == LineResult::close) {
      stats.reason = "quit";
      break;
    }
    if (connection.stop_requested() || output.overflowed()) break;
    if (over_rate) {
      if (!pacing_to_log.empty()) {
        log.logger().info("{} paced: {}", stats.peer, pacing_log_text(pacing_to_log));
        pacing_to_log.clear();
      }
      pause_reading(bucket, connection);
    }
  }

  // What the others are told: nothing extra for a normal leave, the cause where it is not one.
  std::string told;
  if (stats.reason.empty()) {
    if (output.overflowed()) {
      stats.reason = told = "too slow: send queue over " + format_bytes(options.max_queue);
    } else if (connection.idle()) {
      stats.reason = told = protocol::idle_reason;
      output.send(make_message(idle_notice(options.idle_timeout), line_ending(crlf)));
    } else if (connection.stop_requested()) {
      stats.reason = "shutdown";
      told = "server shutting down";  // silent after broadcast_shutdown(), kept for the record
    } else if (const auto write_error = output.write_error()) {
      stats.reason = told = disconnect_reason(write_error);
    } else {
      stats.reason = disconnect_reason(error);
      if (error) told = stats.reason;
    }
  }
  member.leave(told);
  stats.name = member.name();
  output.finish(flush_timeout);
  stats.lines_out = output.messages_sent() - std::min(output.messages_sent(), telnet_replies);
  // A client cut off as too slow does not read, so there is nothing to linger for.
  connection.close(output.overflowed() ? std::chrono::milliseconds(0) : std::chrono::milliseconds(1000));
  stats.duration = std::chrono::steady_clock::now() - started;
  log.disconnected(stats);
}

}  // namespace dschat::threaded
