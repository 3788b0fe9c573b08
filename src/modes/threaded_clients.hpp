#pragma once

#include <mutex>

#include "core/chat_room.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve.hpp"
#include "modes/threaded_connection.hpp"

namespace dschat {

/// The one chat room of a threaded server and the lock every client thread takes to use it.
struct LockedRoom {
  /// A room configured from the server's flags.
  explicit LockedRoom(const ChatRoomOptions& options) : room(options) {}

  std::mutex mutex;
  ChatRoom room;
};

/// Echo service for one client, on its own thread: reply each line with itself until `end`, end of
/// stream, an error or the server stops; then close and log the disconnection.
void serve_echo_client(Connection& connection, const ServeOptions& options, const ConnectionLog& log);

/// Chat service for one client, on its own thread (plus a writer thread it owns): join the room, hand it
/// every line until /quit, end of stream, an error, a full send queue or the server stops; then leave,
/// flush, close and log the disconnection.
void serve_chat_client(Connection& connection, LockedRoom& room, const ServeOptions& options,
                       const ConnectionLog& log);

}  // namespace dschat
