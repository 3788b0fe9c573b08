#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/chat_room.hpp"
#include "core/message.hpp"
#include "log/connection_logger.hpp"
#include "modes/serve_options.hpp"
#include "net/tls_context.hpp"

namespace dschat::async {

class Session;

/// What every session of one async server shares. Owned by the server, outlives every session.
struct SessionContext {
  const ServeOptions& options;
  const ConnectionLog& log;
  ChatRoom* room;               ///< the chat room; null for the echo service
  std::span<char> read_buffer;  ///< one for the whole loop: filled and consumed between two co_awaits
  Message too_long;             ///< echo service: "! line too long (max N bytes)", formatted once
  std::string too_slow;         ///< "too slow: send queue over 1 MiB"
  Message idle_notice;          ///< "! closing: no line for N s", formatted once
  /// Called once per session after it has closed; error is set when a coroutine of it threw.
  std::function<void(const std::shared_ptr<Session>&, const std::exception_ptr& error)> ended;
  const TlsContext* tls = nullptr;  ///< set when the chat port speaks TLS
};

}  // namespace dschat::async
