#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_request.hpp"

namespace dschat {

/// A file the web endpoint serves as it is, e.g. {"/", "text/html; charset=utf-8", page}.
struct WebFile {
  std::string_view path;          ///< the request path that gets it
  std::string_view content_type;  ///< its Content-Type
  std::string_view body;          ///< its bytes
};

/// Which WebSocket handshakes the endpoint accepts.
struct HttpPolicy {
  bool tls = false;                          ///< the page is served over https: its origin is https://HOST
  std::vector<std::string> allowed_origins;  ///< origins allowed besides the page's own (--web-origin)
};

/// What to do with a request.
enum class HttpAction : std::uint8_t {
  respond,  ///< send http_response(...) and close
  upgrade,  ///< send http_response(...) (101) and speak WebSocket from then on
};

/// The router's decision.
struct HttpRoute {
  HttpAction action = HttpAction::respond;  ///< respond or upgrade
  int status = 404;                         ///< 101, 200 or an error status
  const WebFile* file = nullptr;            ///< the file to send with 200
};

/// The path that upgrades to a WebSocket.
inline constexpr std::string_view websocket_path = "/ws";

/// Decides what a complete request gets: a method other than GET 405; a GET with a body 400; on /ws,
/// HTTP/1.0 400, no "Upgrade: websocket" with "Connection: upgrade" or a version other than 13: 426, a bad
/// key 400,
/// an Origin that is missing or not allowed 403 (origin_allowed), else 101; a path of files (the query
/// is ignored): 200 with that file; anything else 404.
HttpRoute route_http_request(const HttpRequest& request, const HttpPolicy& policy,
                             std::span<const WebFile> files);

/// True when origin (an Origin header) is the page's own, (https or http)://HOST from the Host header,
/// or one of policy.allowed_origins; compared case-insensitively, a default port (:80, :443) ignored.
/// Browsers send Origin with every WebSocket handshake, so a handshake without one is refused: it is no
/// page of ours, and refusing it costs a real browser nothing.
bool origin_allowed(std::string_view origin, std::string_view host, const HttpPolicy& policy);

/// The response bytes for route: a file (200) with Content-Type, Content-Length, a Content-Security-Policy
/// of default-src 'self', nosniff, no-store and Connection: close; the 101 handshake answer with
/// Sec-WebSocket-Accept; or http_error_response(route.status).
std::string http_response(const HttpRoute& route, const HttpRequest& request);

/// A short plain-text error response that closes the connection: its body is the status and its reason
/// phrase, then ": detail" when one is given ("503 Service Unavailable: too many connections from your
/// address"). 405 adds Allow: GET, 426 adds Upgrade: websocket and Sec-WebSocket-Version: 13.
std::string http_error_response(int status, std::string_view detail = {});

}  // namespace dschat
