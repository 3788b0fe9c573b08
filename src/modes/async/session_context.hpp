#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/chat_room.hpp"
#include "core/message.hpp"
#include "core/room_admission.hpp"
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

/// Handles a line from a client that has not given the room password yet (never logged: it may hold one),
/// for a Session or a WebSession, which declare it their friend: as the session's admission decides, tells
/// the client its reply, joins it to the room, or calls end(reason, refused): after the refusal's reply
/// ("wrong password", refused) or at a /quit ("quit", not refused). The two differ only in how they end.
template <class AnySession, class End>
void take_admission_line(AnySession& session, std::string_view line, End end) {
  const AdmissionStep step = session.admission_->on_line(line);
  switch (step.action) {
    case AdmissionStep::Action::none:
      break;
    case AdmissionStep::Action::reply:
      session.tell(step.text);
      break;
    case AdmissionStep::Action::admit:
      session.join_room();
      session.context_.log.logger().info("{} gave the room password: joined as {}", session.stats_.peer,
                                         session.stats_.name);
      break;
    case AdmissionStep::Action::refuse:
      session.tell(step.text);
      end("wrong password", true);
      break;
    case AdmissionStep::Action::quit:
      end("quit", false);
      break;
  }
}

}  // namespace dschat::async
