#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dschat {

/// The upgrade request of a WebSocket client for GET path on host, a host:port (RFC 6455 §4.1): Host host,
/// Origin http://host (the page's own origin, which the server accepts), the key, version 13.
std::string ws_upgrade_request(std::string_view host, std::string_view key, std::string_view path = "/ws");

/// Where WsUpgradeResponse stands.
enum class WsUpgradeState : std::uint8_t {
  need_more,  ///< the response head is not complete yet
  accepted,   ///< 101 with the right headers: the connection speaks WebSocket now
  refused,    ///< anything else: error() says why
};

/// Reads a server's answer to a client's upgrade request, fed in chunks, sans-I/O (the client half of
/// RFC 6455 §4.1): accepted once the head is complete and is `101` with `Upgrade: websocket`,
/// `Connection: upgrade` and the Sec-WebSocket-Accept that the request's key calls for. Lines end with CRLF
/// or a bare LF; a head over max_http_head bytes is refused.
class WsUpgradeResponse {
 public:
  /// A reader of the answer to a request that sent key.
  explicit WsUpgradeResponse(std::string_view key);

  /// Feeds a chunk; returns how many of its bytes belong to the head (all of them while more is needed;
  /// on completion the rest are the server's first frames).
  std::size_t feed(std::string_view chunk);

  /// Where the reader stands; once accepted or refused, feed reads nothing more.
  WsUpgradeState state() const noexcept { return state_; }

  /// Refused: why, in a few words ("the server answered HTTP/1.1 403 Forbidden").
  const std::string& error() const noexcept { return error_; }

 private:
  void end_line();
  void status_line(std::string_view line);
  void header_line(std::string_view line);
  void end_head();
  void refuse(std::string why);

  std::string expected_accept_;
  std::string line_;  // the line being read, without its line end
  std::optional<std::string> accept_;
  std::string error_;
  std::size_t head_size_ = 0;
  WsUpgradeState state_ = WsUpgradeState::need_more;
  bool started_ = false;  // the status line was read
  bool upgrade_ = false;
  bool connection_ = false;
};

}  // namespace dschat
