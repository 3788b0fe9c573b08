#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/websocket.hpp"
#include "core/ws_upgrade.hpp"

namespace dschat::bench {

/// A seed for WsLink keys and masks that differs from run to run (std::random_device).
std::uint64_t random_seed();

/// Where a WsLink stands.
enum class WsLinkState : std::uint8_t {
  upgrading,  ///< the upgrade request is out, the server's answer is not complete yet
  open,       ///< upgraded: text messages flow both ways
  ended,      ///< refused, closed by the server, or broken: error() says why
};

/// A bench client's WebSocket (`dschat bench --ws`) without its socket: the upgrade request and the check
/// of the server's answer, lines sent as masked text frames, the server's frames read back as lines, pings
/// answered with pongs, a close answered with a close. One text message is one line, both ways.
///
/// Keys and masks come from a generator seeded by the caller: RFC 6455 wants them unpredictable so that a
/// page's script cannot steer the bytes on the wire; a load generator sends its own bytes, so a fast
/// generator is enough.
class WsLink {
 public:
  /// A link to the server at host (HOST:PORT, as its Host header); seed picks the key and the masks.
  WsLink(std::string_view host, std::uint64_t seed);

  /// The upgrade request to write first.
  const std::string& request() const noexcept { return request_; }

  /// Appends each line of lines (ended by LF, which is not sent; a last line without LF too) to out as one
  /// masked text frame.
  void append_lines(std::string& out, std::string_view lines);

  /// Reads what the server sent: the rest of its upgrade answer first, then frames. Calls
  /// on_line(std::string_view) for each text message; pings, a close or a protocol error leave bytes to
  /// send (take_replies). Returns state(); bytes after the end are ignored.
  template <class OnLine>
  WsLinkState feed(std::string_view chunk, OnLine&& on_line) {
    if (state_ == WsLinkState::upgrading) {
      chunk.remove_prefix(upgrade_.feed(chunk));
      if (!check_upgrade()) return state_;
    }
    if (state_ != WsLinkState::open) return state_;
    decoder_.feed(chunk, [&](const WsEvent& event) {
      if (event.kind != WsEventKind::text) return on_control(event);
      on_line(event.data);
      return true;
    });
    return state_;
  }

  /// Where the link stands.
  WsLinkState state() const noexcept { return state_; }

  /// Ended: why, in a few words ("the server closed the WebSocket (1001 server shutting down)").
  const std::string& error() const noexcept { return error_; }

  /// True when replies wait to be sent: pongs, or the close frame that answers the server's.
  bool wants_write() const noexcept { return !replies_.empty(); }

  /// The replies waiting to be sent, masked, in order; none wait afterwards.
  std::string take_replies();

 private:
  /// Updates the state from the upgrade answer; true once the link is open.
  bool check_upgrade();
  /// Handles a ping, pong, close, too-long message or error; true to go on reading.
  bool on_control(const WsEvent& event);
  /// Queues a close frame with code, or without one.
  void send_close(std::optional<std::uint16_t> code);
  void end(std::string why);
  std::array<std::uint8_t, 4> next_mask() noexcept;
  std::uint64_t next_random() noexcept;

  std::uint64_t random_;
  std::string key_;
  std::string request_;
  WsUpgradeResponse upgrade_;
  WsDecoder decoder_;
  std::string replies_;
  std::string error_;
  WsLinkState state_ = WsLinkState::upgrading;
};

}  // namespace dschat::bench
