#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/nats_info.hpp"

namespace dschat {

// The core NATS client protocol (docs.nats.io/reference/protocols/client), sans-I/O: encoders append wire
// bytes to a std::string, NatsDecoder turns received bytes into events. Scope: core pub/sub with user/pass
// or token auth; no headers (we never send "headers":true, so a server never sends HMSG), no JetStream.

/// Longest control line the decoder accepts, CR LF excluded; a server's INFO is well below it.
inline constexpr std::size_t nats_max_control_line = 4096;

/// Default largest payload the decoder accepts: nats-server's default max_payload.
inline constexpr std::size_t nats_default_max_payload = 1024 * 1024;

/// True when subject can be sent: 1–256 bytes, none of them a space, TAB, CR, LF or other control byte,
/// no empty token (no leading, trailing or doubled '.').
bool is_valid_nats_subject(std::string_view subject) noexcept;

/// What CONNECT says about us.
struct NatsConnectOptions {
  std::string name;                       ///< client name, shown by the server's monitoring
  std::string version;                    ///< our version, e.g. "0.9.0"
  std::optional<std::string> user;        ///< user for --user/--pass auth (sent with pass)
  std::optional<std::string> pass;        ///< password for --user/--pass auth
  std::optional<std::string> auth_token;  ///< token for --auth auth
  bool echo = false;                      ///< whether the server sends our own messages back to us
};

/// Appends `CONNECT {...}\r\n` with verbose and pedantic false, echo as given (false by default: the
/// server never sends our own messages back to us), name, lang "c++", version, and the credentials given;
/// strings JSON-escaped.
void append_nats_connect(std::string& out, const NatsConnectOptions& options);

/// Appends `PUB <subject> <size>\r\n<payload>\r\n`. subject must be valid (is_valid_nats_subject; throws
/// std::invalid_argument otherwise); the caller keeps payload within the server's max_payload.
void append_nats_pub(std::string& out, std::string_view subject, std::string_view payload);

/// Appends `SUB <subject> <sid>\r\n`; throws std::invalid_argument for an invalid subject.
void append_nats_sub(std::string& out, std::string_view subject, std::uint64_t sid);

/// Appends `UNSUB <sid>\r\n`, or `UNSUB <sid> <max_msgs>\r\n` to end after max_msgs more messages.
void append_nats_unsub(std::string& out, std::uint64_t sid, std::optional<std::uint64_t> max_msgs = {});

/// Appends `PING\r\n`.
void append_nats_ping(std::string& out);

/// Appends `PONG\r\n`.
void append_nats_pong(std::string& out);

/// A message delivered on a subscription.
struct NatsMsg {
  std::string subject;    ///< the subject it was published on
  std::uint64_t sid = 0;  ///< the subscription it matched
  std::string reply_to;   ///< the reply subject, empty when none
  std::string payload;    ///< any bytes, CR and LF included
  bool operator==(const NatsMsg&) const = default;
};

/// One thing the server said.
struct NatsEvent {
  /// The verb: INFO, MSG, PING, PONG, +OK, -ERR.
  enum class Kind { info, msg, ping, pong, ok, err };
  Kind kind = Kind::ok;  ///< which verb
  NatsInfo info;         ///< for info
  NatsMsg msg;           ///< for msg
  std::string text;      ///< for err: the text between the quotes of `-ERR '...'`
  bool operator==(const NatsEvent&) const = default;
};

/// Decodes the server side of the NATS client protocol from arbitrary chunks of bytes. Control verbs are
/// case-insensitive, fields are separated by any run of spaces and TABs, a control line ends with LF (a CR
/// before it is dropped); a payload is taken by its byte count and must be followed by CR LF. A malformed
/// line, an unknown verb (HMSG included: we never ask for headers), a control line over
/// nats_max_control_line bytes or a payload over max_payload is a protocol error: the decoder fails, keeps
/// its error message, and ignores everything fed after it.
class NatsDecoder {
 public:
  /// A decoder accepting payloads of at most max_payload bytes.
  explicit NatsDecoder(std::size_t max_payload = nats_default_max_payload) noexcept
      : max_payload_(max_payload) {}

  /// Feeds one chunk; appends the events it completes to events, in order. Returns false once failed
  /// (events decoded before the error in this chunk are still appended).
  bool feed(std::string_view chunk, std::vector<NatsEvent>& events);

  /// True after a protocol error.
  bool failed() const noexcept { return !error_.empty(); }

  /// The protocol error, e.g. "control line longer than 4096 bytes"; empty while not failed.
  const std::string& error() const noexcept { return error_; }

  /// Bytes held for an unfinished control line or payload.
  std::size_t buffered() const noexcept { return line_.size() + msg_.payload.size(); }

 private:
  enum class State : std::uint8_t { line, payload, payload_cr, payload_lf };

  std::size_t take_line(std::string_view chunk, std::vector<NatsEvent>& events);
  std::size_t take_payload(std::string_view chunk, std::vector<NatsEvent>& events);
  void control_line(std::string_view line, std::vector<NatsEvent>& events);
  void msg_line(const std::vector<std::string_view>& fields);
  void fail(std::string message);

  std::string line_;  // an unfinished control line
  NatsMsg msg_;       // the MSG whose payload is being read
  std::size_t payload_left_ = 0;
  std::size_t max_payload_;
  std::string error_;
  State state_ = State::line;
};

}  // namespace dschat
