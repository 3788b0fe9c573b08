#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dschat {

/// The most bytes a request head (request line, headers, the empty line) may take: more is 431.
inline constexpr std::size_t max_http_head = 8192;

/// The parts of an HTTP/1.1 request head that the web endpoint uses.
struct HttpRequest {
  std::string method;                            ///< e.g. "GET", case-sensitive as RFC 9110 says
  std::string target;                            ///< the request target as sent, e.g. "/ws?x=1"
  std::string path;                              ///< target without its query
  std::string version;                           ///< "HTTP/1.0", "HTTP/1.1", … (always HTTP/1.x)
  std::string host;                              ///< the Host header (always present once parsed)
  std::optional<std::string> origin;             ///< the Origin header
  std::optional<std::string> websocket_key;      ///< Sec-WebSocket-Key
  std::optional<std::string> websocket_version;  ///< Sec-WebSocket-Version
  bool upgrade_websocket = false;                ///< Upgrade lists the token "websocket" (any case)
  bool connection_upgrade = false;               ///< Connection lists the token "upgrade" (any case)
  bool has_body = false;  ///< Transfer-Encoding, or a Content-Length other than 0, was sent
};

/// Where HttpRequestParser stands.
enum class HttpParseState : std::uint8_t {
  need_more,  ///< the head is not complete yet
  complete,   ///< request() holds the whole head
  error,      ///< the head is malformed: answer status() and close
};

/// Reads an HTTP/1.1 request head fed in chunks (RFC 9112 §2–5), sans-I/O, with a bounded buffer.
///
/// Lines end with CRLF or a bare LF; empty lines before the request line are skipped. A bad request
/// line, a header line without a name and colon, white space before the colon, a control character in a
/// value, an obs-fold line (starting with a space or tab), a second Host, Origin, Sec-WebSocket-Key or
/// Sec-WebSocket-Version, or no Host at all: 400. A version other than HTTP/1.x: 505. A head over
/// max_http_head bytes: 431. Any method is parsed: whether it is allowed is the router's business
/// (route_http_request). Header names are case-insensitive; other headers are checked and ignored.
class HttpRequestParser {
 public:
  /// Feeds a chunk; returns how many of its bytes belong to the head (all of them while more is
  /// needed; on completion, the bytes after it are the caller's, e.g. early WebSocket frames).
  std::size_t feed(std::string_view chunk);

  /// Where the parser stands; once complete or error, feed reads nothing more.
  HttpParseState state() const noexcept { return state_; }

  /// The request; complete only in the complete state.
  const HttpRequest& request() const noexcept { return request_; }

  /// The status to answer in the error state: 400, 431 or 505.
  int status() const noexcept { return status_; }

 private:
  void end_line();
  void request_line(std::string_view line);
  void header_line(std::string_view line);
  void end_head();
  void fail(int status) noexcept;

  HttpRequest request_;
  std::string line_;  // the line being read, without its line end
  std::size_t head_size_ = 0;
  int status_ = 0;
  HttpParseState state_ = HttpParseState::need_more;
  bool started_ = false;  // the request line was read
};

/// True when text lists token in a comma-separated list (RFC 9110 §5.6.1), compared case-insensitively.
bool http_list_has(std::string_view text, std::string_view token) noexcept;

/// True when key is a valid Sec-WebSocket-Key: the base64 encoding of 16 bytes (24 characters).
bool websocket_key_valid(std::string_view key) noexcept;

}  // namespace dschat
