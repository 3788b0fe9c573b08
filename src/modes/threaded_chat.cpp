// The chat service of the threaded server: the client's thread reads lines and hands them to the shared
// room under its lock; the room fans out into every member's ChatOutput queue. After the lock, one client
// thread at a time writes every queue through for everyone (flush_queued): the others only queue, so
// under load each member gets one write for many lines instead of one per line. What a socket does not
// take, the member's own writer thread sends.

#include <chrono>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/protocol.hpp"
#include "modes/threaded_chat_output.hpp"
#include "modes/threaded_clients.hpp"
#include "net/line_reader.hpp"

namespace dschat {

namespace {

// How long a leaving client's queued output may take to go out before the connection is cut.
constexpr std::chrono::seconds kFlushTimeout{2};

// Most lines handled per acquisition of the room's lock, so that one busy client cannot hold it long.
constexpr std::size_t kMaxBatch = 64;

/// A chat line kept for the -v log until the room's lock is released.
struct SaidLine {
  std::string speaker;
  std::string text;
};

// Passes a client thread makes in flush_queued() before it hands the rest to the main thread and goes
// back to its own client: under a steady flood the writing could otherwise never end for it.
constexpr std::size_t kMaxPasses = 8;

void flush_passes(LockedRoom& shared, std::unique_lock<std::mutex>& lock) {
  if (shared.flushing) return;  // whoever is flushing takes these too before it stops
  shared.flushing = true;
  thread_local std::vector<ChatOutput*> pass;
  for (std::size_t passes = 0; !shared.deferred.empty(); ++passes) {
    if (passes == kMaxPasses) {
      if (!std::exchange(shared.flush_scheduled, true)) shared.schedule_flush();
      break;
    }
    shared.deferred.take(pass);
    lock.unlock();
    for (ChatOutput* output : pass)
      output->flush();
    lock.lock();
    shared.deferred.passed(pass);
    shared.passed.notify_all();
  }
  shared.flushing = false;
}

}  // namespace

ChatMember::ChatMember(Connection& connection, LockedRoom& shared, std::size_t max_queue)
    : shared_(shared), output_(connection, max_queue) {}

void ChatMember::leave(std::string_view reason) {
  if (!joined_ || left_) return;
  left_ = true;
  std::unique_lock lock(shared_.mutex);
  name_ = shared_.room.name(id_);
  {
    const ChatOutputBatch batch(shared_.deferred);
    shared_.room.leave(id_, reason);
  }
  // Its own queue goes out with finish(); a flusher that is writing it must be done before it may go.
  shared_.passed.wait(lock, [this] { return shared_.deferred.forget(output_); });
  if (!shared_.deferred.empty() && !shared_.flushing && !std::exchange(shared_.flush_scheduled, true))
    shared_.schedule_flush();
}

void flush_queued(LockedRoom& shared) {
  std::unique_lock lock(shared.mutex);
  flush_passes(shared, lock);
}

void flush_deferred(LockedRoom& shared) {
  std::unique_lock lock(shared.mutex);
  shared.flush_scheduled = false;
  flush_passes(shared, lock);
}

void join_together(LockedRoom& shared, std::span<ChatMember* const> members) {
  const std::scoped_lock lock(shared.mutex);
  const ChatOutputBatch batch;          // destroyed before the lock: the outputs it lists are alive
  const JoinBatch joins(&shared.room);  // one message per member for all the batch's notices
  for (ChatMember* member : members) {
    member->id_ = shared.room.join(member->output_);
    member->name_ = shared.room.name(member->id_);
    member->joined_ = true;
  }
}

void serve_chat_client(Connection& connection, ChatMember& member, LockedRoom& shared,
                       const ServeOptions& options, const ConnectionLog& log) {
  const auto started = std::chrono::steady_clock::now();
  ConnectionStats stats;
  stats.peer = connection.peer();

  ChatOutput& output = member.output();
  log.connected(stats.peer, member.name());

  LineReader reader(connection.socket(), options.max_line);
  TokenBucket bucket(options.rate, options.burst, started);
  const bool verbose = log.logger().should_log(spdlog::level::debug);
  std::vector<SaidLine> said;  // copied under the lock, logged after it: stderr must not stall the room
  std::error_code error;
  for (;;) {
    auto line = reader.next(error);
    if (!line) break;
    LineResult result = LineResult::keep_open;
    bool over_rate = false;
    {
      // Lines that arrived together are handled under one acquisition of the room's lock: with many
      // busy clients, taking it once per line is what makes their threads queue up on it.
      const std::scoped_lock lock(shared.mutex);
      // Queued only: written through after the lock, in one gathered write per client for the whole
      // batch and whatever other threads queue meanwhile (flush_queued).
      const ChatOutputBatch batch(shared.deferred);
      for (std::size_t handled = 1;; ++handled) {
        ++stats.lines_in;
        if (line->kind == FrameKind::too_long) {
          shared.room.on_too_long(member.id());
        } else {
          if (verbose)
            said.push_back(SaidLine{std::string(shared.room.name(member.id())), std::move(line->text)});
          result = shared.room.on_line(member.id(), verbose ? said.back().text : line->text);
        }
        over_rate = take_token(bucket);
        if (result == LineResult::close || over_rate || handled == kMaxBatch || !reader.has_ready()) break;
        line = reader.next(error);  // has_ready(): returns at once
      }
    }
    flush_queued(shared);
    for (const auto& [speaker, text] : said)
      log.chat_line(speaker, text);
    said.clear();
    if (result == LineResult::close) {
      stats.reason = "quit";
      break;
    }
    if (connection.stop_requested() || output.overflowed()) break;
    if (over_rate) pause_reading(bucket, connection);
  }

  // What the others are told: nothing extra for a normal leave, the cause where it is not one.
  std::string told;
  if (stats.reason.empty()) {
    if (output.overflowed()) {
      stats.reason = told = "too slow: send queue over " + format_bytes(options.max_queue);
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
  output.finish(kFlushTimeout);
  stats.lines_out = output.lines_queued();
  // A client cut off as too slow does not read, so there is nothing to linger for.
  connection.close(output.overflowed() ? std::chrono::milliseconds(0) : std::chrono::milliseconds(1000));
  stats.duration = std::chrono::steady_clock::now() - started;
  log.disconnected(stats);
}

}  // namespace dschat
